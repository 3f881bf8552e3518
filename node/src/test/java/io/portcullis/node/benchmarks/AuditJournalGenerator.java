package io.portcullis.node.benchmarks;

import com.typesafe.config.ConfigFactory;
import io.portcullis.node.testing.JournalRows;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.index.AuditQueries;
import io.portcullis.persistence.audit.index.SessionQuery;
import io.portcullis.persistence.audit.index.TimeRange;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * For bench/audit-query.sh. {@code generate JDBC_URL STATEMENTS USERS}: writes sessions of 100
 * statements each (received, decided, completed; every 50th denied) as real, chained, serialized
 * journal events into a PostgreSQL journal with COPY, spread over November 2026. {@code query
 * JDBC_URL USER SINCE}: times the {@code audit sessions --user USER --since SINCE} query in
 * process.
 */
public final class AuditJournalGenerator {

  private static final int STATEMENTS_PER_SESSION = 100;
  private static final Instant START = Instant.parse("2026-11-01T00:00:00Z");

  private AuditJournalGenerator() {}

  public static void main(String[] args) throws Exception {
    if (args[0].equals("generate")) {
      generate(args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]));
    } else {
      query(args[1], args[2], args[3]);
    }
  }

  private static void generate(String url, int statements, int users) throws Exception {
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "generator",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    JournalRows journal = new JournalRows(system);
    int sessions = statements / STATEMENTS_PER_SESSION;
    Duration spacing = Duration.ofDays(28).dividedBy(sessions);
    HexFormat hex = HexFormat.of();
    try (Connection connection = DriverManager.getConnection(url)) {
      CopyIn copy =
          connection
              .unwrap(PGConnection.class)
              .getCopyAPI()
              .copyIn(
                  "COPY event_journal (persistence_id, sequence_number, writer, write_timestamp,"
                      + " adapter_manifest, event_ser_id, event_ser_manifest, event_payload)"
                      + " FROM STDIN");
      for (int s = 0; s < sessions; s++) {
        String session = "bench-" + s;
        Instant at = START.plus(spacing.multipliedBy(s));
        List<SessionEvent> events = new ArrayList<>();
        events.add(JournalRows.opened(session, "user-" + s % users, "10.1.0." + s % 250, at));
        for (long n = 1; n <= STATEMENTS_PER_SESSION; n++) {
          Instant sent = at.plusMillis(n * 10);
          boolean denied = n % 50 == 0;
          events.addAll(
              JournalRows.statement(
                  n,
                  "SELECT balance FROM bank.accounts WHERE id = " + (s * 1000 + n),
                  denied ? "deny" : "allow",
                  List.of(denied ? "bank.customers" : "bank.accounts"),
                  Optional.empty(),
                  sent));
          events.add(
              JournalRows.completed(
                  n, denied ? 0 : 1, denied ? Optional.of("42501") : Optional.empty(), sent));
        }
        events.add(JournalRows.closed(at.plusSeconds(5)));
        StringBuilder lines = new StringBuilder();
        for (JournalRows.Row row : journal.session(session, events)) {
          lines
              .append(row.persistenceId())
              .append('\t')
              .append(row.sequenceNumber())
              .append("\tbench\t")
              .append(at.toEpochMilli())
              .append("\t\t")
              .append(row.serializer())
              .append('\t')
              .append(row.manifest())
              .append("\t\\\\x")
              .append(hex.formatHex(row.payload()))
              .append('\n');
        }
        byte[] bytes = lines.toString().getBytes(StandardCharsets.UTF_8);
        copy.writeToCopy(bytes, 0, bytes.length);
      }
      System.out.println(copy.endCopy() + " events written");
    } finally {
      system.terminate();
    }
  }

  private static void query(String url, String user, String since) throws Exception {
    try (Connection connection = DriverManager.getConnection(url)) {
      AuditQueries queries = new AuditQueries(connection);
      SessionQuery query =
          new SessionQuery(
              Optional.of(user),
              TimeRange.parse(Optional.of(since), Optional.empty()),
              Optional.empty(),
              Optional.empty(),
              Optional.empty(),
              Optional.empty(),
              Optional.empty(),
              Optional.empty(),
              1000);
      long[] millis = new long[7];
      int found = 0;
      for (int i = 0; i < millis.length; i++) {
        long start = System.nanoTime();
        found = queries.sessions(query).sessions().size();
        millis[i] = (System.nanoTime() - start) / 1_000_000;
      }
      long first = millis[0];
      Arrays.sort(millis);
      System.out.printf(
          "audit sessions --user %s --since %s: %d sessions, first %d ms, median %d ms%n",
          user, since, found, first, millis[millis.length / 2]);
    }
  }
}
