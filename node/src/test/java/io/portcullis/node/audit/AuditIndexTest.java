package io.portcullis.node.audit;

import static io.portcullis.node.testing.JournalRows.closed;
import static io.portcullis.node.testing.JournalRows.completed;
import static io.portcullis.node.testing.JournalRows.opened;
import static io.portcullis.node.testing.JournalRows.statement;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.portcullis.node.testing.JournalRows;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.index.AuditIndexer;
import io.portcullis.persistence.audit.index.AuditQueries;
import io.portcullis.persistence.audit.index.SessionQuery;
import io.portcullis.persistence.audit.index.SessionSummary;
import io.portcullis.persistence.audit.index.TimeRange;
import io.portcullis.persistence.journal.JournalDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The audit index against a real PostgreSQL journal filled with real serialized events: the indexer
 * catches up, resumes from its stored offset, changes nothing when it indexes events again, waits
 * at ordering gaps, and shares the work with another indexer; the queries find sessions by each
 * filter.
 */
class AuditIndexTest {

  private static final String DATABASE = "portcullis_index_it";
  private static final Instant T0 = Instant.parse("2026-11-02T09:00:00Z");
  private static ActorSystem<Void> system;
  private static JournalRows journal;
  private static Serialization serialization;

  @BeforeAll
  static void start() {
    system =
        ActorSystem.create(
            Behaviors.empty(),
            "audit-index-test",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    journal = new JournalRows(system);
    serialization = SerializationExtension.get(system);
  }

  @AfterAll
  static void stop() {
    system.terminate();
  }

  @BeforeEach
  void freshJournal() throws SQLException {
    TestPostgres.recreateDatabase(DATABASE);
    TestPostgres.Server pg = TestPostgres.server();
    new JournalDatabase(pg.jdbcUrl(DATABASE), pg.user(), pg.password(), true).ensureSchema();
  }

  private static Connection db() throws SQLException {
    return TestPostgres.direct(DATABASE);
  }

  /** Alice reads accounts (3 rows), is refused customers (42501), and logs out. */
  private static List<SessionEvent> alice() {
    List<SessionEvent> events = new ArrayList<>();
    events.add(opened("s-alice", "alice", "10.0.0.1", T0));
    events.addAll(
        statement(
            1,
            "SELECT * FROM bank.accounts",
            "allow",
            List.of("bank.accounts"),
            Optional.empty(),
            T0.plusSeconds(1)));
    events.add(completed(1, 3, Optional.empty(), T0.plusSeconds(2)));
    events.addAll(
        statement(
            2,
            "SELECT ssn FROM bank.customers",
            "deny",
            List.of("bank.customers"),
            Optional.empty(),
            T0.plusSeconds(3)));
    events.add(completed(2, 0, Optional.of("42501"), T0.plusSeconds(3)));
    events.add(closed(T0.plusSeconds(4)));
    return events;
  }

  /** Bob's statement waits for approval a-000000000001; his session stays open. */
  private static List<SessionEvent> bob() {
    List<SessionEvent> events = new ArrayList<>();
    events.add(opened("s-bob", "bob", "10.0.0.2", T0.plusSeconds(3600)));
    events.addAll(
        statement(
            1,
            "UPDATE payments SET amount = 0",
            "review",
            List.of("public.payments"),
            Optional.of("a-000000000001"),
            T0.plusSeconds(3601)));
    events.add(
        new SessionEvent.ApprovalResolved(
            SessionEvent.SCHEMA_VERSION,
            T0.plusSeconds(3602),
            1,
            "a-000000000001",
            "approved",
            List.of(new SessionEvent.Approver("carol", "https://login.bank.example")),
            "",
            null));
    events.add(completed(1, 7, Optional.empty(), T0.plusSeconds(3603)));
    return events;
  }

  private static AuditIndexer indexer() {
    return new AuditIndexer(serialization, 3, Duration.ofSeconds(1));
  }

  @Test
  void catchesUpThenResumesFromItsStoredOffsetAfterARestart() throws Exception {
    try (Connection c = db()) {
      JournalRows.insert(c, journal.session("s-alice", alice()));
      assertThat(indexer().catchUp(c)).isEqualTo(8);
      assertThat(rows(c, "SELECT subject, closed_at IS NOT NULL, statements FROM audit_sessions"))
          .containsExactly("alice|t|2");
      assertThat(
              rows(
                  c,
                  "SELECT statement, subject, decision, tables_json, row_count, sqlstate,"
                      + " command_tag FROM audit_statements ORDER BY statement"))
          .containsExactly(
              "1|alice|allow|[\"bank.accounts\"]|3|null|SELECT 3",
              "2|alice|deny|[\"bank.customers\"]|0|42501|null");
      assertThat(rows(c, "SELECT table_name FROM audit_statement_tables ORDER BY 1"))
          .containsExactly("bank.accounts", "bank.customers");

      JournalRows.insert(c, journal.session("s-bob", bob()));
      // A new indexer, as after a restart: it reads on from the stored offset only.
      AuditIndexer restarted = indexer();
      assertThat(restarted.catchUp(c)).isEqualTo(5);
      assertThat(rows(c, "SELECT ordering FROM audit_offsets"))
          .containsExactly(rows(c, "SELECT max(ordering) FROM event_journal").get(0));
      assertThat(
              rows(
                  c,
                  "SELECT subject, approval_id, approval_outcome, approvers_json, row_count"
                      + " FROM audit_statements ORDER BY subject"))
          .containsExactly(
              "alice|null|null|null|3",
              "alice|null|null|null|0",
              "bob|a-000000000001|approved|[{\"subject\":\"carol\",\"issuer\":\"https://login.bank.example\"}]|7");
      assertThat(restarted.indexNext(c).events()).isZero();
    }
  }

  @Test
  void indexingTheSameEventsAgainChangesNothing() throws Exception {
    try (Connection c = db()) {
      JournalRows.insert(c, journal.session("s-alice", alice()));
      JournalRows.insert(c, journal.session("s-bob", bob()));
      indexer().catchUp(c);
      List<String> before = dump(c);
      c.createStatement().execute("UPDATE audit_offsets SET ordering = 0");
      indexer().catchUp(c);
      c.createStatement().execute("UPDATE audit_offsets SET ordering = 4");
      indexer().catchUp(c);
      assertThat(dump(c)).isEqualTo(before);
    }
  }

  @Test
  void theIndexIsTheSameWhetherAStatementsEventsShareABatchOrNot() throws Exception {
    List<List<String>> dumps = new ArrayList<>();
    for (int batchSize : List.of(1, 2, 3, 1_000)) {
      freshJournal();
      try (Connection c = db()) {
        JournalRows.insert(c, journal.session("s-alice", alice()));
        JournalRows.insert(c, journal.session("s-bob", bob()));
        new AuditIndexer(serialization, batchSize, Duration.ofSeconds(1)).catchUp(c);
        dumps.add(dump(c));
      }
    }
    assertThat(dumps.get(0)).hasSizeGreaterThan(5);
    assertThat(dumps).allMatch(dump -> dump.equals(dumps.get(0)));
  }

  @Test
  void stopsAtAnOrderingGapUntilItFillsOrTimesOut() throws Exception {
    List<JournalRows.Row> rows = journal.session("s-alice", alice());
    try (Connection c = db()) {
      JournalRows.insert(c, List.of(ordered(rows, 0, 1), ordered(rows, 1, 2), ordered(rows, 3, 4)));
      AuditIndexer indexer = indexer();
      AuditIndexer.Batch stopped = indexer.indexNext(c);
      assertThat(stopped.offset()).isEqualTo(2);
      assertThat(stopped.gap()).isTrue();

      JournalRows.insert(c, List.of(ordered(rows, 2, 3)));
      AuditIndexer.Batch filled = indexer.indexNext(c);
      assertThat(filled.offset()).isEqualTo(4);
      assertThat(filled.gap()).isFalse();

      // Ordering 5, statement 2's StatementReceived, never commits (a rolled-back write): after
      // the gap timeout it is skipped, and statement 2 is not in the index.
      JournalRows.insert(c, List.of(ordered(rows, 5, 6)));
      assertThat(indexer.indexNext(c).offset()).isEqualTo(4);
      Thread.sleep(1_100);
      assertThat(indexer.indexNext(c).offset()).isEqualTo(6);
      assertThat(rows(c, "SELECT statement, row_count FROM audit_statements ORDER BY 1"))
          .containsExactly("1|3");
    }
  }

  private static JournalRows.Row ordered(List<JournalRows.Row> rows, int index, long ordering) {
    JournalRows.Row row = rows.get(index);
    return new JournalRows.Row(
        ordering,
        row.persistenceId(),
        row.sequenceNumber(),
        row.serializer(),
        row.manifest(),
        row.payload());
  }

  @Test
  void twoIndexersAtOnceIndexEveryEventOnce() throws Exception {
    try (Connection c = db()) {
      for (int session = 0; session < 100; session++) {
        List<SessionEvent> events = new ArrayList<>();
        events.add(opened("s-" + session, "user-" + session % 7, "10.0.0.9", T0));
        for (int n = 1; n <= 5; n++) {
          events.addAll(
              statement(n, "SELECT " + n, "allow", List.of(), Optional.empty(), T0.plusSeconds(n)));
          events.add(completed(n, n, Optional.empty(), T0.plusSeconds(n)));
        }
        JournalRows.insert(c, journal.session("s-" + session, events));
      }
    }
    CompletableFuture<?>[] indexers =
        Stream.generate(
                () ->
                    CompletableFuture.runAsync(
                        () -> {
                          try (Connection own = db()) {
                            new AuditIndexer(serialization, 50, Duration.ofSeconds(1)).catchUp(own);
                          } catch (Exception e) {
                            throw new IllegalStateException(e);
                          }
                        }))
            .limit(2)
            .toArray(CompletableFuture[]::new);
    CompletableFuture.allOf(indexers).join();
    try (Connection c = db()) {
      assertThat(rows(c, "SELECT count(*), sum(row_count) FROM audit_statements"))
          .containsExactly("500|1500");
      assertThat(rows(c, "SELECT count(*), sum(statements) FROM audit_sessions"))
          .containsExactly("100|500");
    }
  }

  @Test
  void sessionsAreFoundByEachFilter() throws Exception {
    try (Connection c = db()) {
      JournalRows.insert(c, journal.session("s-alice", alice()));
      JournalRows.insert(c, journal.session("s-bob", bob()));
      indexer().catchUp(c);
      AuditQueries queries = new AuditQueries(c);
      assertThat(found(queries, query().user("alice"))).containsExactly("s-alice");
      assertThat(found(queries, query().user("mallory"))).isEmpty();
      assertThat(queries.knownSubject("alice")).isTrue();
      assertThat(queries.knownSubject("mallory")).isFalse();
      assertThat(found(queries, query().table("customers"))).containsExactly("s-alice");
      assertThat(found(queries, query().table("bank.customers"))).containsExactly("s-alice");
      assertThat(found(queries, query().table("ustomers"))).isEmpty();
      assertThat(found(queries, query().table("public.payments"))).containsExactly("s-bob");
      assertThat(found(queries, query().decision("review"))).containsExactly("s-bob");
      assertThat(found(queries, query().decision("deny").user("bob"))).isEmpty();
      assertThat(found(queries, query().approval("a-000000000001"))).containsExactly("s-bob");
      assertThat(found(queries, query().client("10.0.0.1"))).containsExactly("s-alice");
      assertThat(found(queries, query().sqlState("42501"))).containsExactly("s-alice");
      assertThat(found(queries, query().target("main"))).containsExactly("s-alice", "s-bob");
      // Alice's session ended before this range; Bob's is still open.
      assertThat(found(queries, query().since("2026-11-02T09:30:00Z"))).containsExactly("s-bob");
      assertThat(found(queries, query().until("2026-11-02T09:30:00Z"))).containsExactly("s-alice");
      // Bob was open then, but did not touch payments in it.
      assertThat(found(queries, query().since("2026-11-02T11:00:00Z").table("payments"))).isEmpty();
      SessionSummary.Page limited = queries.sessions(query().limit(1).build());
      assertThat(limited.more()).isTrue();
      assertThat(limited.sessions()).extracting(SessionSummary::session).containsExactly("s-alice");
    }
  }

  @Test
  void anInvertedOrEmptyTimeRangeIsRefused() {
    assertThatThrownBy(() -> TimeRange.parse(Optional.of("2026-11-05"), Optional.of("2026-11-01")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not before until");
    assertThat(TimeRange.parse(Optional.of("2026-11-01"), Optional.of("2026-11-01")))
        .isEqualTo(
            new TimeRange(
                Instant.parse("2026-11-01T00:00:00Z"), Instant.parse("2026-11-02T00:00:00Z")));
    assertThatThrownBy(() -> TimeRange.parse(Optional.of("yesterday"), Optional.empty()))
        .hasMessageContaining("neither an ISO date");
  }

  private static List<String> found(AuditQueries queries, QueryBuilder query) throws SQLException {
    return queries.sessions(query.build()).sessions().stream()
        .map(SessionSummary::session)
        .toList();
  }

  private static QueryBuilder query() {
    return new QueryBuilder();
  }

  /** A session query with only some filters set. */
  private static final class QueryBuilder {
    private String user;
    private String since;
    private String until;
    private String target;
    private String table;
    private String decision;
    private String approval;
    private String client;
    private String sqlState;
    private int limit = 100;

    QueryBuilder user(String value) {
      user = value;
      return this;
    }

    QueryBuilder since(String value) {
      since = value;
      return this;
    }

    QueryBuilder until(String value) {
      until = value;
      return this;
    }

    QueryBuilder target(String value) {
      target = value;
      return this;
    }

    QueryBuilder table(String value) {
      table = value;
      return this;
    }

    QueryBuilder decision(String value) {
      decision = value;
      return this;
    }

    QueryBuilder approval(String value) {
      approval = value;
      return this;
    }

    QueryBuilder client(String value) {
      client = value;
      return this;
    }

    QueryBuilder sqlState(String value) {
      sqlState = value;
      return this;
    }

    QueryBuilder limit(int value) {
      limit = value;
      return this;
    }

    SessionQuery build() {
      return new SessionQuery(
          Optional.ofNullable(user),
          TimeRange.parse(Optional.ofNullable(since), Optional.ofNullable(until)),
          Optional.ofNullable(target),
          Optional.ofNullable(table),
          Optional.ofNullable(decision),
          Optional.ofNullable(approval),
          Optional.ofNullable(client),
          Optional.ofNullable(sqlState),
          limit);
    }
  }

  /** Every index row, as text. */
  private static List<String> dump(Connection c) throws SQLException {
    List<String> all = new ArrayList<>();
    all.addAll(rows(c, "SELECT * FROM audit_sessions ORDER BY session"));
    all.addAll(rows(c, "SELECT * FROM audit_statements ORDER BY session, statement"));
    all.addAll(rows(c, "SELECT * FROM audit_statement_tables ORDER BY 1, 2, 3"));
    return all;
  }

  private static List<String> rows(Connection c, String sql) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (ResultSet rs = c.createStatement().executeQuery(sql)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        List<String> values = new ArrayList<>();
        for (int i = 1; i <= columns; i++) {
          values.add(String.valueOf(rs.getString(i)));
        }
        rows.add(String.join("|", values));
      }
    }
    return rows;
  }
}
