package io.portcullis.node.benchmarks;

import com.typesafe.config.ConfigFactory;
import io.portcullis.node.testing.RecordedBank;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.PolicyVersion;
import io.portcullis.persistence.audit.SessionChain;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.journal.JournalDatabase;
import io.portcullis.policy.rules.PolicyParser;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializer;
import org.apache.pekko.serialization.Serializers;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * {@code bench/replay.sh whatif}: writes a journal of SESSIONS × STATEMENTS recorded statements
 * into a fresh database, as the gateway would have: real SessionEvents, hash-chained, serialized by
 * the actor system's own serializers and bulk-loaded with COPY, plus the text of the policy version
 * they name. The statements are a realistic mix of reads, parameterised inserts, updates, reviewed
 * deletes, exports and denied DDL, with varying literals.
 */
public final class WhatIfJournal {

  private static final String[] TEMPLATES = {
    "SELECT id, name, ssn FROM replay_bank.customers WHERE id = %d",
    "SELECT c.name, b.city FROM replay_bank.customers c JOIN replay_bank.branches b ON b.id = c.id"
        + " %% 2 + 1 WHERE c.id BETWEEN %d AND %<d + 20 ORDER BY c.name",
    "SELECT count(*), max(email) FROM replay_bank.customers WHERE name LIKE 'customer %d%%'",
    "UPDATE replay_bank.customers SET name = 'seen %d' WHERE id = %<d",
    "INSERT INTO replay_bank.customers VALUES ($1, $2, $3, $4)",
    "SELECT id, name FROM replay_bank.customers WHERE id = $1",
    "DELETE FROM replay_bank.customers WHERE id = %d",
    "COPY replay_bank.branches TO STDOUT",
    "DROP TABLE replay_bank.tmp_%d",
    "SELECT now(), current_user, %d",
  };
  private static final String[] DECISIONS = {
    "allow", "allow", "allow", "allow", "allow", "allow", "review", "allow", "deny", "allow"
  };

  public static void main(String[] args) throws Exception {
    String database = args[0];
    int sessions = Integer.parseInt(args[1]);
    int statements = Integer.parseInt(args[2]);
    TestPostgres.recreateDatabase(database);
    TestPostgres.Server pg = TestPostgres.server();
    new JournalDatabase(pg.jdbcUrl(database), pg.user(), pg.password(), true).ensureSchema();
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "generate",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    Serialization serialization = SerializationExtension.get(system);
    String version = PolicyParser.parse("bench", RecordedBank.POLICY).version();
    ClientDataSeal seal = ClientDataSeal.withKey(new byte[32]);
    Instant start = Instant.now().minusSeconds(86_400);
    try (Connection c = TestPostgres.direct(database)) {
      CopyManager copy = new CopyManager(c.unwrap(BaseConnection.class));
      StringBuilder rows = new StringBuilder();
      append(
          rows,
          serialization,
          PolicyVersion.persistenceId(version).id(),
          1,
          new PolicyVersion.PolicyStored(1, start, version, RecordedBank.POLICY));
      long written = 0;
      for (int n = 0; n < sessions; n++) {
        String session = UUID.randomUUID().toString();
        String id = "Session|" + session;
        Instant at = start.plusSeconds(n);
        List<SessionEvent> events = new ArrayList<>(statements * 3 + 2);
        events.add(
            new SessionEvent.SessionOpened(
                1,
                at,
                session,
                "node-1",
                "agent-" + (n % 50),
                "dev",
                List.of("agents"),
                true,
                "10.0.0." + (n % 200),
                40000,
                "recon",
                Optional.empty(),
                Optional.empty(),
                "main",
                "postgres",
                version,
                List.of(),
                null));
        for (int i = 1; i <= statements; i++) {
          int template = (n * 31 + i * 7) % TEMPLATES.length;
          int value = n * statements + i;
          String sql = TEMPLATES[template].formatted(value);
          boolean extended = sql.contains("$1");
          Optional<String> sealed =
              extended
                  ? seal.seal(
                      session,
                      i,
                      new ClientDataSeal.Values(
                          List.of((short) 0),
                          List.of(Integer.toString(value).getBytes(StandardCharsets.UTF_8))))
                  : Optional.empty();
          events.add(
              new SessionEvent.StatementReceived(
                  1,
                  at,
                  i,
                  sql,
                  extended ? "extended" : "simple",
                  "",
                  "",
                  extended ? List.of(Integer.toString(value)) : List.of(),
                  sealed,
                  null));
          String decision = DECISIONS[template];
          events.add(
              new SessionEvent.PolicyDecided(
                  1,
                  at,
                  i,
                  decision,
                  decision.equals("allow")
                      ? List.of()
                      : List.of(decision.equals("deny") ? "no-ddl" : "deletes-reviewed"),
                  version,
                  "",
                  List.of("replay_bank.customers"),
                  Optional.empty(),
                  null));
          if (!decision.equals("deny")) {
            events.add(
                new SessionEvent.StatementCompleted(
                    1,
                    at,
                    i,
                    Optional.of("SELECT 1"),
                    1,
                    120,
                    Optional.empty(),
                    List.of(List.of("customer " + value, "*******6789")),
                    true,
                    HexFormat.of().formatHex(new byte[32]),
                    null));
          }
        }
        events.add(new SessionEvent.SessionClosed(1, at, "client terminated", null));
        String head = SessionChain.GENESIS;
        long sequence = 0;
        for (SessionEvent event : events) {
          SessionEvent chained = event.chainedAfter(head);
          head = SessionChain.hash(chained);
          append(rows, serialization, id, ++sequence, chained);
        }
        written += statements;
        if (rows.length() > 32 << 20) {
          copy.copyIn(COPY, new StringReader(rows.toString()));
          rows.setLength(0);
          System.err.print("\r" + written + " statements written");
        }
      }
      copy.copyIn(COPY, new StringReader(rows.toString()));
      System.err.println("\r" + written + " statements written to " + database);
    } finally {
      system.terminate();
    }
  }

  private static final String COPY =
      "COPY event_journal (persistence_id, sequence_number, writer, write_timestamp, event_ser_id,"
          + " event_ser_manifest, event_payload) FROM STDIN";

  private static void append(
      StringBuilder rows, Serialization serialization, String id, long sequence, Object event) {
    Serializer serializer = serialization.findSerializerFor(event);
    rows.append(id)
        .append('\t')
        .append(sequence)
        .append("\tbench\t")
        .append(System.currentTimeMillis())
        .append('\t')
        .append(serializer.identifier())
        .append('\t')
        .append(Serializers.manifestFor(serializer, event))
        .append("\t\\\\x")
        .append(HexFormat.of().formatHex(serializer.toBinary(event)))
        .append('\n');
  }
}
