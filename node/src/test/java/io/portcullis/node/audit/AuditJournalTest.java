package io.portcullis.node.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.Cli;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.persistence.audit.LedgerCheckpoint;
import io.portcullis.persistence.audit.LoginJournal;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import io.portcullis.persistence.audit.SessionEvent.SessionClosed;
import io.portcullis.persistence.audit.SessionEvent.SessionOpened;
import io.portcullis.persistence.audit.SessionEvent.StatementCompleted;
import io.portcullis.persistence.audit.SessionEvent.StatementReceived;
import io.portcullis.policy.identity.DevIssuer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit journal end to end, with PostgreSQL as the journal: a scripted session through the
 * gateway is read back event by event (identity, exact SQL, decisions, masked results), the chains
 * and the node's signed checkpoints verify, edits and deletions of journal rows (a whole session, a
 * session's last events) are found, and a journal that cannot be written refuses statements without
 * running them until it is back.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class AuditJournalTest {

  private static final String JOURNAL_DB = "portcullis_journal_it";
  private static final String POLICY =
      """
      default: allow
      rules:
        - id: no-drop
          when: {kinds: [ddl]}
          decision: deny
          reason: DDL is refused
      masking:
        columns:
          - {id: ssn, columns: [audit_bank.customers.ssn], strategy: partial, keep: 4}
        detectors:
          - {id: ssns, kind: ssn, strategy: redact}
      """;

  @TempDir static Path dir;
  private static GatewayNode gateway;
  private static DevIssuer issuer;
  private static Path config;
  private static Path publicKey;

  @BeforeAll
  static void start() throws Exception {
    try (Connection c = TestPostgres.direct("postgres");
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + JOURNAL_DB + " WITH (FORCE)");
      s.execute("CREATE DATABASE " + JOURNAL_DB);
    }
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS audit_bank CASCADE");
      s.execute(
          """
          CREATE SCHEMA audit_bank;
          CREATE TABLE audit_bank.customers (id int PRIMARY KEY, name text, ssn text);
          INSERT INTO audit_bank.customers VALUES
            (1, 'Alice', '123-45-6789'), (2, 'Bob', '234-56-7891');
          """);
    }
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, POLICY);
    Path key = dir.resolve("dev.jwk");
    KeyPair signing = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Path signingKey = pem(dir.resolve("signing.pem"), "PRIVATE KEY", signing.getPrivate());
    publicKey = pem(dir.resolve("signing.pub"), "PUBLIC KEY", signing.getPublic());
    TestPostgres.Server pg = TestPostgres.server();
    String journal =
        """
        portcullis.journal {
          url = "%s"
          user = "%s"
          password = "%s"
          write-timeout = 2s
          signing-key-file = "%s"
        }
        """
            .formatted(pg.jdbcUrl(JOURNAL_DB), pg.user(), pg.password(), signingKey);
    gateway = TestGateway.start(TestGateway.policyWithDevTokens(policy, key) + journal);
    issuer = DevIssuer.load(key);
    config = dir.resolve("gateway.conf");
    Files.writeString(config, journal);
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  /** A key in PEM, as openssl writes it. */
  private static Path pem(Path file, String label, Key key) throws IOException {
    return Files.writeString(
        file,
        "-----BEGIN "
            + label
            + "-----\n"
            + Base64.getMimeEncoder().encodeToString(key.getEncoded())
            + "\n-----END "
            + label
            + "-----\n");
  }

  private static Connection agent() throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", "recon-bot");
    props.setProperty(
        "password",
        issuer.mint("recon-bot", Set.of("agents"), true, Duration.ofMinutes(5), "portcullis"));
    props.setProperty("ApplicationName", "recon");
    // Sent at login, not by a SET afterwards, so the session's record has it.
    props.setProperty("assumeMinServerVersion", "15");
    return DriverManager.getConnection(TestGateway.jdbcUrl(gateway, ""), props);
  }

  private static Connection journalDatabase() throws SQLException {
    return TestPostgres.direct(JOURNAL_DB);
  }

  /** Reads the journal as the CLI reads it. */
  private static <T> T read(JournalRead<T> what) throws Exception {
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "audit-read",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    try (Connection connection = journalDatabase()) {
      return what.read(new JournalReader(connection, system));
    } finally {
      system.terminate();
    }
  }

  /** The events of every session in the journal. */
  private static List<List<ChainCheck.Stored<SessionEvent>>> sessions() throws Exception {
    return read(
        reader -> {
          List<List<ChainCheck.Stored<SessionEvent>>> sessions = new java.util.ArrayList<>();
          for (String session : reader.sessions()) {
            sessions.add(reader.events(session));
          }
          return sessions;
        });
  }

  /** The id of the closed session that ran {@code sql}, once a checkpoint holds its close. */
  private static String checkpointedClose(String sql) throws Exception {
    String session =
        await(
            () ->
                sessions().stream()
                    .filter(s -> contains(s, sql))
                    .filter(s -> s.get(s.size() - 1).event() instanceof SessionClosed)
                    .map(s -> ((SessionOpened) s.get(0).event()).session())
                    .findFirst()
                    .orElse(null));
    return await(
        () ->
            read(
                reader -> {
                  for (String node : reader.ledgers()) {
                    for (ChainCheck.Stored<LedgerCheckpoint> checkpoint :
                        reader.checkpoints(node)) {
                      if (checkpoint.event().heads().stream()
                          .anyMatch(head -> head.session().equals(session) && head.closed())) {
                        return session;
                      }
                    }
                  }
                  return null;
                }));
  }

  @Test
  void aScriptedSessionIsRecordedStatementByStatementAndVerifies() throws Exception {
    try (Connection c = agent()) {
      try (ResultSet rs =
          c.createStatement()
              .executeQuery("SELECT name, ssn FROM audit_bank.customers ORDER BY id")) {
        rs.next();
        assertThat(rs.getString(2)).isEqualTo("*******6789");
      }
      try (PreparedStatement insert =
          c.prepareStatement("INSERT INTO audit_bank.customers VALUES (?, ?, ?)")) {
        insert.setInt(1, 3);
        insert.setString(2, "Carl");
        insert.setString(3, "345-67-8912");
        assertThat(insert.executeUpdate()).isEqualTo(1);
      }
      assertThatThrownBy(() -> c.createStatement().execute("DROP TABLE audit_bank.customers"))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("DDL is refused");
    }
    List<ChainCheck.Stored<SessionEvent>> events =
        await(
            () ->
                sessions().stream()
                    .filter(s -> contains(s, "DROP TABLE audit_bank.customers"))
                    .filter(s -> s.get(s.size() - 1).event() instanceof SessionClosed)
                    .findFirst()
                    .orElse(null));
    List<SessionEvent> session = events.stream().map(ChainCheck.Stored::event).toList();
    SessionOpened opened = (SessionOpened) session.get(0);
    assertThat(opened.subject()).isEqualTo("recon-bot");
    assertThat(opened.groups()).containsExactly("agents");
    assertThat(opened.agent()).isTrue();
    assertThat(opened.applicationName()).isEqualTo("recon");
    assertThat(opened.target()).isEqualTo("main");
    assertThat(opened.clientAddress()).isEqualTo("127.0.0.1");

    StatementReceived select = received(session, "SELECT name, ssn FROM audit_bank.customers");
    assertThat(decision(session, select.statement()).decision()).isEqualTo("allow");
    StatementCompleted selected = completed(session, select.statement());
    assertThat(selected.commandTag()).contains("SELECT 2");
    assertThat(selected.rows()).isEqualTo(2);
    assertThat(selected.sample())
        .containsExactly(List.of("Alice", "*******6789"), List.of("Bob", "*******7891"));
    assertThat(selected.sampleComplete()).isTrue();
    assertThat(selected.resultDigest()).matches("[0-9a-f]{64}");

    StatementReceived insert = received(session, "INSERT INTO audit_bank.customers");
    assertThat(insert.protocol()).isEqualTo("extended");
    assertThat(insert.parameters()).containsExactly("3", "Carl", "****");
    assertThat(completed(session, insert.statement()).commandTag()).contains("INSERT 0 1");

    StatementReceived drop = received(session, "DROP TABLE audit_bank.customers");
    PolicyDecided refused = decision(session, drop.statement());
    assertThat(refused.decision()).isEqualTo("deny");
    assertThat(refused.rules()).containsExactly("no-drop");
    assertThat(session.get(session.size() - 1)).isInstanceOf(SessionClosed.class);
    assertThat(session.toString()).doesNotContain("123-45-6789", "345-67-8912");

    assertThat(ChainCheck.check(opened.session(), events)).isEmpty();
    assertThat(checkpointedClose("DROP TABLE audit_bank.customers")).isEqualTo(opened.session());
    Cli.Run verify =
        Cli.portcullis(
            "audit", "verify", "--config", config.toString(), "--public-key", publicKey.toString());
    assertThat(verify.exitCode()).as(verify.out() + verify.err()).isZero();
    assertThat(verify.out())
        .contains("every chain is whole and matches the checkpoints")
        .containsPattern(
            "KEY sha256:[0-9a-f]{64} signed \\d+ checkpoints of node pekko://\\S+: trusted")
        .containsPattern("LEDGER node pekko://\\S+: last checkpoint \\d+ at ")
        .doesNotContain("BROKEN");
  }

  @Test
  void verifyNamesKeysItCannotTrustAndRefusesBadInput() throws Exception {
    try (Connection c = agent()) {
      c.createStatement().execute("SELECT 'signed'");
    }
    checkpointedClose("SELECT 'signed'");
    Path otherKey =
        pem(
            dir.resolve("other.pub"),
            "PUBLIC KEY",
            KeyPairGenerator.getInstance("Ed25519").generateKeyPair().getPublic());
    Cli.Run untrusted =
        Cli.portcullis(
            "audit", "verify", "--config", config.toString(), "--public-key", otherKey.toString());
    assertThat(untrusted.exitCode()).as(untrusted.out() + untrusted.err()).isEqualTo(1);
    assertThat(untrusted.out())
        .contains("not one of the trusted keys")
        .containsPattern(
            "KEY sha256:[0-9a-f]{64} signed \\d+ checkpoints of node \\S+: NOT TRUSTED");

    Cli.Run unchecked = Cli.portcullis("audit", "verify", "--config", config.toString());
    assertThat(unchecked.out()).contains("not checked, as no --public-key was given");

    Cli.Run later =
        Cli.portcullis("audit", "verify", "--config", config.toString(), "--since", "2999-01-01");
    assertThat(later.exitCode()).as(later.out() + later.err()).isZero();
    assertThat(later.out())
        .contains("0 sessions, failed logins on 0 days, 0 events, 0 checkpoints");

    Cli.Run badSince =
        Cli.portcullis("audit", "verify", "--config", config.toString(), "--since", "yesterday");
    assertThat(badSince.exitCode()).isEqualTo(2);
    assertThat(badSince.err()).contains("'yesterday' is neither a date");
    Cli.Run badKey =
        Cli.portcullis(
            "audit", "verify", "--config", config.toString(), "--public-key", config.toString());
    assertThat(badKey.exitCode()).isEqualTo(2);
    assertThat(badKey.err()).contains("holds no PEM block 'PUBLIC KEY'");
  }

  @Test
  @Order(Integer.MAX_VALUE) // it damages the journal the other tests read
  void verifyFindsAnEditedRowADeletedSessionAndDeletedLastEvents() throws Exception {
    try (Connection c = agent()) {
      c.createStatement().execute("SELECT 'to edit'");
      c.createStatement().execute("SELECT 2");
    }
    try (Connection c = agent()) {
      c.createStatement().execute("SELECT 'to cut short'");
    }
    String persistenceId = "Session|" + checkpointedClose("SELECT 'to edit'");
    String cut = checkpointedClose("SELECT 'to cut short'");
    try (Connection j = journalDatabase();
        Statement s = j.createStatement()) {
      // The first statement replaced by the last one of the same session, which decodes fine.
      s.execute(
          ("UPDATE event_journal SET event_payload = (SELECT event_payload FROM event_journal"
                  + " WHERE persistence_id = '%1$s' AND event_ser_manifest LIKE '%%Received'"
                  + " ORDER BY sequence_number DESC LIMIT 1)"
                  + " WHERE persistence_id = '%1$s' AND sequence_number = (SELECT"
                  + " min(sequence_number) FROM event_journal WHERE persistence_id = '%1$s'"
                  + " AND event_ser_manifest LIKE '%%Received')")
              .formatted(persistenceId));
    }
    Cli.Run edited = Cli.portcullis("audit", "verify", "--config", config.toString());
    assertThat(edited.exitCode()).as(edited.out() + edited.err()).isEqualTo(1);
    assertThat(edited.out())
        .as(edited.err())
        .contains("BROKEN session", "does not follow event 2: that event was edited");

    try (Connection j = journalDatabase();
        Statement s = j.createStatement()) {
      s.execute("DELETE FROM event_journal WHERE persistence_id = '%s'".formatted(persistenceId));
      // A session loses its last two events: its own chain cannot show that.
      s.execute(
          ("DELETE FROM event_journal WHERE persistence_id = 'Session|%1$s' AND sequence_number >"
                  + " (SELECT max(sequence_number) - 2 FROM event_journal"
                  + " WHERE persistence_id = 'Session|%1$s')")
              .formatted(cut));
      // Another session loses its third event.
      s.execute(
          "DELETE FROM event_journal WHERE sequence_number = 3 AND persistence_id = (SELECT"
              + " min(persistence_id) FROM event_journal WHERE persistence_id LIKE 'Session|%'"
              + " GROUP BY persistence_id HAVING count(*) >= 4 LIMIT 1)");
    }
    Cli.Run deleted = Cli.portcullis("audit", "verify", "--config", config.toString());
    assertThat(deleted.exitCode()).as(deleted.out() + deleted.err()).isEqualTo(1);
    assertThat(deleted.out())
        .contains("(deleted)")
        .containsPattern(
            "BROKEN "
                + Pattern.quote(persistenceId.replace("Session|", "session "))
                + ": missing: checkpoint \\d+ of node pekko://\\S+ holds its event \\d+, but the"
                + " journal has none of its events: the session was deleted")
        .containsPattern(
            "BROKEN session "
                + cut
                + ", event \\d+: missing: checkpoint \\d+ of node pekko://\\S+ holds it, but the"
                + " journal ends at event \\d+: the session's last events were deleted");
  }

  @Test
  void aJournalThatCannotBeWrittenRefusesStatementsAndTheSessionRecovers() throws Exception {
    try (Connection c = agent()) {
      c.createStatement().execute("SELECT 1");
      try (Connection j = journalDatabase();
          Statement s = j.createStatement()) {
        s.execute("ALTER TABLE event_journal RENAME TO event_journal_away");
      }
      try {
        assertThatThrownBy(
                () ->
                    c.createStatement()
                        .execute("INSERT INTO audit_bank.customers VALUES (10, 'Lost', NULL)"))
            .isInstanceOfSatisfying(
                SQLException.class,
                e -> {
                  assertThat(e.getSQLState()).isEqualTo("57P03");
                  assertThat(e.getMessage()).contains("audit journal is unavailable");
                });
      } finally {
        try (Connection j = journalDatabase();
            Statement s = j.createStatement()) {
          s.execute("ALTER TABLE event_journal_away RENAME TO event_journal");
        }
      }
      try (Connection direct = TestPostgres.direct();
          ResultSet rs =
              direct
                  .createStatement()
                  .executeQuery("SELECT count(*) FROM audit_bank.customers WHERE id = 10")) {
        rs.next();
        assertThat(rs.getInt(1)).as("nothing ran upstream").isZero();
      }
      // The same session goes on by itself once the journal can be written again.
      await(
          () -> {
            try {
              c.createStatement()
                  .execute("INSERT INTO audit_bank.customers VALUES (11, 'Back', NULL)");
              return true;
            } catch (SQLException e) {
              return null;
            }
          });
    }
  }

  @Test
  void aJournalSlowerThanTheWriteTimeoutRefusesStatementsUntilItIsFastAgain() throws Exception {
    try (Connection c = agent()) {
      c.createStatement().execute("SELECT 1");
      try (Connection j = journalDatabase()) {
        j.setAutoCommit(false);
        // Writers wait for this lock: every journal write now takes longer than the 2 s timeout.
        j.createStatement().execute("LOCK TABLE event_journal IN EXCLUSIVE MODE");
        try {
          long started = System.nanoTime();
          assertThatThrownBy(
                  () ->
                      c.createStatement()
                          .execute("INSERT INTO audit_bank.customers VALUES (20, 'Slow', NULL)"))
              .isInstanceOfSatisfying(
                  SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("57P03"));
          assertThat(Duration.ofNanos(System.nanoTime() - started))
              .isGreaterThanOrEqualTo(Duration.ofSeconds(2));
        } finally {
          j.rollback();
        }
      }
      try (Connection direct = TestPostgres.direct();
          ResultSet rs =
              direct
                  .createStatement()
                  .executeQuery("SELECT count(*) FROM audit_bank.customers WHERE id = 20")) {
        rs.next();
        assertThat(rs.getInt(1)).as("nothing ran upstream").isZero();
      }
      await(
          () -> {
            try {
              c.createStatement().execute("SELECT 2");
              return true;
            } catch (SQLException e) {
              return null;
            }
          });
    }
  }

  @Test
  void aFailedLoginIsJournaledWithItsReasonAndWithoutItsToken() throws Exception {
    String forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.";
    Properties props = new Properties();
    props.setProperty("user", "mallory");
    props.setProperty("password", forged);
    assertThatThrownBy(() -> DriverManager.getConnection(TestGateway.jdbcUrl(gateway, ""), props))
        .isInstanceOf(SQLException.class);
    String day = LoginJournal.entityId(java.time.Instant.now());
    List<byte[]> payloads =
        await(
            () -> {
              try (Connection j = journalDatabase();
                  PreparedStatement query =
                      j.prepareStatement(
                          "SELECT event_payload FROM event_journal WHERE persistence_id = ?")) {
                query.setString(1, "Logins|" + day);
                List<byte[]> rows = new java.util.ArrayList<>();
                try (ResultSet rs = query.executeQuery()) {
                  while (rs.next()) {
                    rows.add(rs.getBytes(1));
                  }
                }
                return rows.isEmpty() ? null : rows;
              }
            });
    String stored =
        payloads.stream()
            .map(p -> new String(p, java.nio.charset.StandardCharsets.ISO_8859_1))
            .filter(p -> p.contains("mallory"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no failed login of mallory"));
    assertThat(stored).contains("28P01").doesNotContain(forged);
  }

  @Test
  void auditCommandsExplainWhatTheyCannotRead() throws Exception {
    Path unreachable = dir.resolve("unreachable.conf");
    Files.writeString(
        unreachable,
        "portcullis.journal { url = \"jdbc:postgresql://127.0.0.1:1/journal\", user = u }\n");
    Cli.Run down = Cli.portcullis("audit", "verify", "--config", unreachable.toString());
    assertThat(down.exitCode()).isEqualTo(2);
    assertThat(down.err()).contains("cannot read the journal at jdbc:postgresql://127.0.0.1:1");

    Path broken = dir.resolve("broken.conf");
    Files.writeString(broken, "portcullis.journal.url = \"jdbc:oracle:thin:@db\"\n");
    Cli.Run invalid = Cli.portcullis("audit", "verify", "--config", broken.toString());
    assertThat(invalid.exitCode()).isEqualTo(2);
    assertThat(invalid.err()).contains("invalid configuration");

    Cli.Run unknown =
        Cli.portcullis("audit", "show", "no-such-session", "--config", config.toString());
    assertThat(unknown.exitCode()).isEqualTo(1);
    assertThat(unknown.err()).contains("no session no-such-session in the journal");
  }

  @Test
  void aJournalInAProtectedTargetsDatabaseIsRefused() {
    TestPostgres.Server pg = TestPostgres.server();
    assertThatThrownBy(
            () ->
                TestGateway.start(
                    "portcullis.journal.url = \"%s\"\n"
                        .formatted(pg.jdbcUrl(TestPostgres.DATABASE) + "?ssl=false")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("stored apart from the databases it audits")
        .hasMessageContaining("target 'main'");
  }

  @Test
  void aSigningKeyFileWithoutAnEd25519KeyStopsTheStart() throws Exception {
    Path notAKey = Files.writeString(dir.resolve("not-a-key.pem"), "hello");
    assertThatThrownBy(
            () ->
                TestGateway.start(
                    "portcullis.journal.signing-key-file = \"%s\"\n".formatted(notAKey)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("portcullis.journal.signing-key-file")
        .hasMessageContaining("no PEM block 'PRIVATE KEY'");
  }

  private static boolean contains(List<ChainCheck.Stored<SessionEvent>> session, String sql) {
    return session.stream()
        .anyMatch(s -> s.event() instanceof StatementReceived r && r.sql().startsWith(sql));
  }

  private static StatementReceived received(List<SessionEvent> session, String sql) {
    return session.stream()
        .filter(e -> e instanceof StatementReceived r && r.sql().startsWith(sql))
        .map(StatementReceived.class::cast)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no statement " + sql + " in " + session));
  }

  private static PolicyDecided decision(List<SessionEvent> session, long statement) {
    return session.stream()
        .filter(e -> e instanceof PolicyDecided d && d.statement() == statement)
        .map(PolicyDecided.class::cast)
        .findFirst()
        .orElseThrow();
  }

  private static StatementCompleted completed(List<SessionEvent> session, long statement) {
    return session.stream()
        .filter(e -> e instanceof StatementCompleted d && d.statement() == statement)
        .map(StatementCompleted.class::cast)
        .findFirst()
        .orElseThrow(() -> new AssertionError("no completion of " + statement + " in " + session));
  }

  @FunctionalInterface
  private interface Probe<T> {
    T get() throws Exception;
  }

  @FunctionalInterface
  private interface JournalRead<T> {
    T read(JournalReader reader) throws Exception;
  }

  /** The first non-null answer within 15 s. */
  private static <T> T await(Probe<T> probe) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
    while (true) {
      T value = probe.get();
      if (value != null) {
        return value;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 15 s");
      }
      Thread.sleep(100);
    }
  }
}
