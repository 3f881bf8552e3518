package io.portcullis.node.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigException;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.AdminClient;
import io.portcullis.node.testing.Cli;
import io.portcullis.node.testing.JournalContents;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.LedgerCheckpoint;
import io.portcullis.persistence.audit.LoginJournal;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.ApprovalResolved;
import io.portcullis.persistence.audit.SessionEvent.CopyDataReceived;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import io.portcullis.persistence.audit.SessionEvent.SessionClosed;
import io.portcullis.persistence.audit.SessionEvent.SessionOpened;
import io.portcullis.persistence.audit.SessionEvent.StatementCompleted;
import io.portcullis.persistence.audit.SessionEvent.StatementReceived;
import io.portcullis.persistence.audit.SessionJournal;
import io.portcullis.policy.identity.DevIssuer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.copy.CopyIn;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;
import org.slf4j.LoggerFactory;

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
  private static final Pattern SESSION_PERSISTENCE_ID =
      Pattern.compile(Pattern.quote(SessionJournal.ENTITY_TYPE + "|") + "([0-9a-f-]{36})");
  private static final String POLICY =
      """
      default: allow
      rules:
        - id: no-drop
          when: {kinds: [ddl]}
          decision: deny
          reason: DDL is refused
        - id: deletes-reviewed
          when: {kinds: [delete]}
          decision: review
          reason: deletes need an analyst
          approval: {mode: wait, timeout: 30s, approvers: [security-analysts]}
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
  private static ClientDataSeal seal;
  private static Path publicKey;

  @BeforeAll
  static void start() throws Exception {
    TestPostgres.recreateDatabase(JOURNAL_DB);
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP SCHEMA IF EXISTS audit_bank CASCADE");
      s.execute(
          """
          CREATE SCHEMA audit_bank;
          CREATE TABLE audit_bank.customers (id int PRIMARY KEY, name text, ssn text);
          INSERT INTO audit_bank.customers VALUES
            (1, 'Alice', '123-45-6789'), (2, 'Bob', '234-56-7891');
          CREATE TABLE audit_bank.loaded (id int PRIMARY KEY, name text, ssn text);
          """);
    }
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, POLICY);
    Path key = dir.resolve("dev.jwk");
    KeyPair signing = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    Path signingKey = pem(dir.resolve("signing.pem"), "PRIVATE KEY", signing.getPrivate());
    publicKey = pem(dir.resolve("signing.pub"), "PUBLIC KEY", signing.getPublic());
    TestPostgres.Server pg = TestPostgres.server();
    Path sealingKey = dir.resolve("sealing.key");
    byte[] keyBytes = new byte[32];
    new SecureRandom().nextBytes(keyBytes);
    Files.write(sealingKey, keyBytes);
    seal = ClientDataSeal.withKey(keyBytes);
    String journal =
        """
        portcullis.journal {
          url = "%s"
          user = "%s"
          password = "%s"
          write-timeout = 2s
          sealing-key-file = "%s"
          signing-key-file = "%s"
        }
        """
            .formatted(pg.jdbcUrl(JOURNAL_DB), pg.user(), pg.password(), sealingKey, signingKey);
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

  private static <T> T read(JournalContents.Read<T> what) throws Exception {
    try (Connection connection = journalDatabase()) {
      return JournalContents.read(connection, what);
    }
  }

  /** The events of every session in the journal, read as the CLI reads them. */
  private static List<List<ChainCheck.Stored<SessionEvent>>> sessions() throws Exception {
    try (Connection connection = journalDatabase()) {
      return JournalContents.sessions(connection);
    }
  }

  private static Optional<String> policyText(String version) throws Exception {
    try (Connection connection = journalDatabase()) {
      return JournalContents.policyText(connection, version);
    }
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
    String approvalId;
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
      CompletableFuture<Integer> delete =
          CompletableFuture.supplyAsync(
              () -> {
                try (Statement s = c.createStatement()) {
                  return s.executeUpdate("DELETE FROM audit_bank.customers WHERE id = 3");
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      AdminClient admin = new AdminClient(gateway);
      String carol =
          issuer.mint(
              "carol", Set.of("security-analysts"), false, Duration.ofMinutes(5), "portcullis");
      approvalId =
          await(
              () -> {
                for (JsonNode approval :
                    admin.get("/api/v1/approvals", carol).body().path("approvals")) {
                  return approval.path("id").asText();
                }
                return null;
              });
      assertThat(admin.post("/api/v1/approvals/" + approvalId + "/approve", carol, "{}").status())
          .isEqualTo(200);
      assertThat(delete.get(10, TimeUnit.SECONDS)).isEqualTo(1);
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

    assertThat(await(() -> policyText(opened.policyVersion()).orElse(null)))
        .as("the policy in force is stored with the version its decisions name")
        .isEqualTo(POLICY);

    StatementReceived select = received(session, "SELECT name, ssn FROM audit_bank.customers");
    assertThat(decision(session, select.statement()).decision()).isEqualTo("allow");
    assertThat(decision(session, select.statement()).tables())
        .containsExactly("audit_bank.customers");
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
    ClientDataSeal.Values sealed =
        seal.open(opened.session(), insert.statement(), insert.sealedParameters().orElseThrow());
    assertThat(sealed.formats()).as("pgjdbc sends the int in binary").startsWith((short) 1);
    assertThat(ByteBuffer.wrap(sealed.values().get(0)).getInt()).isEqualTo(3);
    assertThat(sealed.values().subList(1, 3).stream().map(v -> new String(v, UTF_8)))
        .containsExactly("Carl", "345-67-8912");
    assertThat(completed(session, insert.statement()).commandTag()).contains("INSERT 0 1");

    // Judged at Parse, then held at Bind, with its values: the Bind's record carries the approval.
    PolicyDecided reviewed =
        session.stream()
            .filter(e -> e instanceof PolicyDecided d && d.approvalId().isPresent())
            .map(PolicyDecided.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(reviewed.decision()).isEqualTo("review");
    assertThat(reviewed.approvalId()).contains(approvalId);
    StatementReceived delete = received(session, reviewed.statement());
    assertThat(delete.sql()).startsWith("DELETE FROM audit_bank.customers");
    ApprovalResolved resolved =
        session.stream()
            .filter(ApprovalResolved.class::isInstance)
            .map(ApprovalResolved.class::cast)
            .findFirst()
            .orElseThrow();
    assertThat(resolved.statement()).isEqualTo(delete.statement());
    assertThat(resolved.approvalId()).isEqualTo(approvalId);
    assertThat(resolved.outcome()).isEqualTo("approved");
    assertThat(resolved.approvers())
        .extracting(SessionEvent.Approver::subject)
        .containsExactly("carol");
    assertThat(session.indexOf(resolved))
        .as("the approval is journaled before the statement runs")
        .isLessThan(session.indexOf(completed(session, delete.statement())));

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
    assertThat(badSince.err()).contains("since 'yesterday' is neither an ISO date");
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
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    Logger root = (Logger) LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
    root.addAppender(logged);
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
    } finally {
      root.detachAppender(logged);
    }
    // The session journal's own lines about the failed write (Pekko's) carry the session's id too.
    List<ILoggingEvent> journalLines =
        logged.list.stream()
            .filter(line -> SESSION_PERSISTENCE_ID.matcher(line.getFormattedMessage()).find())
            .toList();
    assertThat(journalLines).isNotEmpty();
    assertThat(journalLines)
        .allSatisfy(
            line -> {
              Matcher id = SESSION_PERSISTENCE_ID.matcher(line.getFormattedMessage());
              assertThat(id.find()).isTrue();
              assertThat(line.getMDCPropertyMap()).containsEntry(SessionMdc.KEY, id.group(1));
            });
  }

  /**
   * The data of a COPY FROM STDIN is journaled in sealed chunks, each before the copy goes on past
   * it: the journal shows its size, never its values, and the chunks open to exactly what the
   * client sent.
   */
  @Test
  void aCopyFromStdinIsJournaledInSealedChunks() throws Exception {
    String data = copyRows(100000, 300 * 1024);
    try (Connection c = agent()) {
      long copied =
          new CopyManager(c.unwrap(BaseConnection.class))
              .copyIn(
                  "COPY audit_bank.loaded FROM STDIN",
                  new ByteArrayInputStream(data.getBytes(UTF_8)));
      assertThat(copied).isGreaterThan(1000);
    }
    List<SessionEvent> session =
        await(
            () ->
                sessions().stream()
                    .filter(s -> contains(s, "COPY audit_bank.loaded FROM STDIN"))
                    .filter(s -> s.get(s.size() - 1).event() instanceof SessionClosed)
                    .findFirst()
                    .map(s -> s.stream().map(ChainCheck.Stored::event).toList())
                    .orElse(null));
    String id = ((SessionOpened) session.get(0)).session();
    long statement = received(session, "COPY audit_bank.loaded FROM STDIN").statement();
    List<CopyDataReceived> chunks =
        session.stream()
            .filter(CopyDataReceived.class::isInstance)
            .map(CopyDataReceived.class::cast)
            .toList();
    assertThat(chunks).extracting(CopyDataReceived::chunk).containsExactly(1, 2);
    assertThat(chunks).allSatisfy(chunk -> assertThat(chunk.statement()).isEqualTo(statement));
    assertThat(chunks.get(0).bytes()).isGreaterThanOrEqualTo(CopyDataRecorder.CHUNK_BYTES);
    assertThat(chunks)
        .extracting(CopyDataReceived::end)
        .containsExactly(Optional.empty(), Optional.of("done"));
    ByteArrayOutputStream opened = new ByteArrayOutputStream();
    for (CopyDataReceived chunk : chunks) {
      opened.writeBytes(
          seal.openCopyData(id, statement, chunk.chunk(), chunk.sealedData().orElseThrow()));
    }
    assertThat(opened.toString(UTF_8)).isEqualTo(data);
    assertThat(chunks.stream().mapToLong(CopyDataReceived::bytes).sum()).isEqualTo(data.length());
    assertThat(AuditJson.MAPPER.writeValueAsString(chunks.get(0)))
        .contains("\"bytes\"")
        .doesNotContain("sealedData", "aesgcm1");
    try (Connection j = journalDatabase();
        ResultSet rs =
            j.createStatement()
                .executeQuery(
                    "SELECT count(*) FROM event_journal WHERE position('999-00-100500'::bytea in"
                        + " event_payload) > 0")) {
      rs.next();
      assertThat(rs.getInt(1)).as("no value of the COPY is in the journal in clear").isZero();
    }
  }

  /**
   * A chunk of COPY data the journal does not take fails the copy upstream: the client gets 57P03
   * and none of its rows is kept.
   */
  @Test
  void aCopyWhoseDataCannotBeJournaledKeepsNoRow() throws Exception {
    try (Connection c = agent()) {
      CopyIn copy =
          new CopyManager(c.unwrap(BaseConnection.class))
              .copyIn("COPY audit_bank.loaded FROM STDIN");
      byte[] first = copyRows(5000, 1024).getBytes(UTF_8);
      copy.writeToCopy(first, 0, first.length);
      copy.flushCopy();
      try (Connection j = journalDatabase();
          Statement s = j.createStatement()) {
        s.execute("ALTER TABLE event_journal RENAME TO event_journal_away");
      }
      try {
        byte[] rest = copyRows(6000, CopyDataRecorder.CHUNK_BYTES).getBytes(UTF_8);
        copy.writeToCopy(rest, 0, rest.length);
        assertThatThrownBy(copy::endCopy)
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
    }
    try (Connection direct = TestPostgres.direct();
        ResultSet rs =
            direct
                .createStatement()
                .executeQuery(
                    "SELECT count(*) FROM audit_bank.loaded WHERE id BETWEEN 5000 AND 99999")) {
      rs.next();
      assertThat(rs.getInt(1)).as("no row of the copy was kept").isZero();
    }
  }

  /** Rows for audit_bank.loaded from id {@code first}, at least {@code bytes} long. */
  private static String copyRows(int first, int bytes) {
    StringBuilder rows = new StringBuilder();
    for (int id = first; rows.length() < bytes; id++) {
      rows.append(id).append("\tCustomer ").append(id).append("\t999-00-").append(id).append('\n');
    }
    return rows.toString();
  }

  @Test
  void aJournalDatabaseStoppedUnderLoadRefusesStatementsAndEverySessionComesBack()
      throws Exception {
    try (Connection direct = TestPostgres.direct();
        Statement s = direct.createStatement()) {
      s.execute("CREATE TABLE audit_bank.load_log (client int, n int, PRIMARY KEY (client, n))");
    }
    int clients = 4;
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger succeeded = new AtomicInteger();
    Set<String> refusals = ConcurrentHashMap.newKeySet();
    Map<Integer, AtomicInteger> afterwards = new ConcurrentHashMap<>();
    AtomicBoolean journalBack = new AtomicBoolean();
    List<CompletableFuture<Void>> load = new ArrayList<>();
    for (int client = 0; client < clients; client++) {
      int id = client;
      afterwards.put(id, new AtomicInteger());
      load.add(
          CompletableFuture.runAsync(
              () -> {
                try (Connection c = agent();
                    Statement s = c.createStatement()) {
                  for (int n = 0; !stop.get(); n++) {
                    try {
                      s.execute("INSERT INTO audit_bank.load_log VALUES (" + id + ", " + n + ")");
                      succeeded.incrementAndGet();
                      if (journalBack.get()) {
                        afterwards.get(id).incrementAndGet();
                      }
                    } catch (SQLException e) {
                      refusals.add(e.getSQLState() + " " + e.getMessage());
                      Thread.sleep(50);
                    }
                  }
                } catch (Exception e) {
                  throw new IllegalStateException("client " + id + " lost its session", e);
                }
              }));
    }
    await(() -> succeeded.get() >= 40 ? true : null);
    try (Connection j = TestPostgres.direct("postgres");
        Statement s = j.createStatement()) {
      s.execute("ALTER DATABASE " + JOURNAL_DB + " ALLOW_CONNECTIONS false");
      s.execute(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
              + JOURNAL_DB
              + "'");
      await(() -> refusals.size() >= 1 ? true : null);
      Thread.sleep(1000);
      s.execute("ALTER DATABASE " + JOURNAL_DB + " ALLOW_CONNECTIONS true");
    }
    journalBack.set(true);
    await(() -> afterwards.values().stream().allMatch(n -> n.get() >= 5) ? true : null);
    stop.set(true);
    CompletableFuture.allOf(load.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);

    assertThat(refusals)
        .allSatisfy(
            refusal ->
                assertThat(refusal).startsWith("57P03 ERROR: the audit journal is unavailable"));
    Set<String> ran = new HashSet<>();
    try (Connection direct = TestPostgres.direct();
        ResultSet rows =
            direct
                .createStatement()
                .executeQuery("SELECT client || ', ' || n FROM audit_bank.load_log")) {
      while (rows.next()) {
        ran.add("INSERT INTO audit_bank.load_log VALUES (" + rows.getString(1) + ")");
      }
    }
    Set<String> journaled = new HashSet<>();
    for (List<ChainCheck.Stored<SessionEvent>> session : sessions()) {
      for (ChainCheck.Stored<SessionEvent> stored : session) {
        if (stored.event() instanceof StatementReceived received) {
          journaled.add(received.sql());
        }
      }
    }
    assertThat(journaled).as("nothing ran unrecorded").containsAll(ran);
  }

  @Test
  void aReadRunsWhileItIsJournaledButItsResultWaitsUntilTheJournalHoldsIt() throws Exception {
    String read = "SELECT name FROM audit_bank.customers WHERE id = 2 -- early read";
    String unjournaled = "SELECT name FROM audit_bank.customers WHERE id = 1 -- not journaled";
    try (Connection c = agent();
        Statement s = c.createStatement()) {
      s.execute("SELECT 1");
      try (Connection j = journalDatabase()) {
        j.setAutoCommit(false);
        j.createStatement().execute("LOCK TABLE event_journal IN EXCLUSIVE MODE");
        CompletableFuture<String> result =
            CompletableFuture.supplyAsync(
                () -> {
                  try (ResultSet rs = s.executeQuery(read)) {
                    rs.next();
                    return rs.getString(1);
                  } catch (SQLException e) {
                    throw new IllegalStateException(e);
                  }
                });
        await(() -> upstreamRan(read) ? true : null);
        Thread.sleep(300);
        assertThat(result).as("no byte of the result before the journal holds it").isNotDone();
        j.rollback();
        assertThat(result.get(5, TimeUnit.SECONDS)).isEqualTo("Bob");

        j.createStatement().execute("LOCK TABLE event_journal IN EXCLUSIVE MODE");
        try {
          assertThatThrownBy(() -> s.executeQuery(unjournaled))
              .isInstanceOfSatisfying(
                  SQLException.class,
                  e -> {
                    assertThat(e.getSQLState()).isEqualTo("57P03");
                    assertThat(e.getMessage()).contains("audit journal is unavailable");
                  });
        } finally {
          j.rollback();
        }
      }
      await(
          () -> {
            try (ResultSet rs = s.executeQuery("SELECT 3")) {
              return rs.next() ? true : null;
            } catch (SQLException e) {
              return null;
            }
          });
    }
  }

  /** Whether one of the upstream's sessions has run {@code sql} (its last statement). */
  private static boolean upstreamRan(String sql) throws SQLException {
    try (Connection direct = TestPostgres.direct();
        PreparedStatement query =
            direct.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE query = ?")) {
      query.setString(1, sql);
      try (ResultSet rs = query.executeQuery()) {
        rs.next();
        return rs.getInt(1) > 0;
      }
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
    Instant attempted = Instant.now();
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

    Cli.Run listed =
        Cli.portcullis(
            "audit",
            "logins",
            "--config",
            config.toString(),
            "--user",
            "mallory",
            "--since",
            attempted.toString());
    assertThat(listed.exitCode()).as(listed.err()).isZero();
    assertThat(listed.out().lines().toList())
        .first()
        .asString()
        .startsWith("AT")
        .contains("USER", "CLIENT", "TARGET", "SQLSTATE", "REASON");
    assertThat(listed.out().lines().skip(1).toList())
        .singleElement()
        .asString()
        .contains("mallory", "127.0.0.1", "28P01")
        .doesNotContain(forged);

    Cli.Run json =
        Cli.portcullis(
            "audit",
            "logins",
            "--config",
            config.toString(),
            "--user",
            "mallory",
            "--until",
            day,
            "--format",
            "json");
    assertThat(json.exitCode()).as(json.err()).isZero();
    JsonNode journaled = new ObjectMapper().readTree(json.out().lines().findFirst().orElseThrow());
    assertThat(journaled.path("user").asText()).isEqualTo("mallory");
    assertThat(journaled.path("sqlState").asText()).isEqualTo("28P01");

    Cli.Run before =
        Cli.portcullis("audit", "logins", "--config", config.toString(), "--until", "2000-01-01");
    assertThat(before.exitCode()).isZero();
    assertThat(before.out()).isEmpty();
    assertThat(before.err()).contains("no failed login matches");

    Cli.Run inverted =
        Cli.portcullis(
            "audit",
            "logins",
            "--config",
            config.toString(),
            "--since",
            day,
            "--until",
            "2000-01-01");
    assertThat(inverted.exitCode()).isEqualTo(2);
    assertThat(inverted.err()).contains("the time range is empty");

    Cli.Run notADate =
        Cli.portcullis("audit", "logins", "--config", config.toString(), "--since", "yesterday");
    assertThat(notADate.exitCode()).isEqualTo(2);
    assertThat(notADate.err()).contains("since 'yesterday' is neither an ISO date");
    Cli.Run unknownFormat =
        Cli.portcullis("audit", "logins", "--config", config.toString(), "--format", "xml");
    assertThat(unknownFormat.exitCode()).isEqualTo(2);
    assertThat(unknownFormat.err()).contains("unknown format 'xml'");
    Cli.Run exportWithoutSince = Cli.portcullis("audit", "export", "--config", config.toString());
    assertThat(exportWithoutSince.exitCode()).isEqualTo(2);
    assertThat(exportWithoutSince.err()).contains("give --since");
    assertThat(exportWithoutSince.out()).isEmpty();
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

  @Test
  void aSealingKeyFileOfTheWrongSizeOrMissingStopsTheStart() throws Exception {
    Path shortKey = Files.write(dir.resolve("short-sealing.key"), new byte[16]);
    assertThatThrownBy(
            () ->
                TestGateway.start(
                    "portcullis.journal.sealing-key-file = \"%s\"\n".formatted(shortKey)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("portcullis.journal.sealing-key-file")
        .hasMessageContaining("holds 16 bytes");
    Path missing = dir.resolve("no-such-sealing.key");
    assertThatThrownBy(
            () ->
                TestGateway.start(
                    "portcullis.journal.sealing-key-file = \"%s\"\n".formatted(missing)))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("cannot read " + missing);
  }

  @Test
  void conformanceWhatIfAndReplayRefuseATimeTheyCannotRead() throws Exception {
    for (String[] command :
        List.of(
            new String[] {"audit", "conformance", "--config", config.toString()},
            new String[] {
              "policy", "whatif", "--config", config.toString(), "--policy", config.toString()
            },
            new String[] {"replay", "--config", config.toString(), "--target", "x"})) {
      String[] args = Arrays.copyOf(command, command.length + 2);
      args[command.length] = "--since";
      args[command.length + 1] = "last tuesday";
      Cli.Run run = Cli.portcullis(args);
      assertThat(run.exitCode()).as(String.join(" ", command)).isEqualTo(2);
      assertThat(run.err())
          .as(String.join(" ", command))
          .contains("since 'last tuesday' is neither an ISO date");
    }
  }

  @Test
  void conformanceAndWhatIfRefuseABackwardsRangeOrOneWithoutSessionsAndReplayABadPort()
      throws Exception {
    Path candidate = Files.writeString(dir.resolve("candidate.yaml"), "default: allow\n");
    for (String[] command :
        List.of(
            new String[] {"audit", "conformance", "--config", config.toString()},
            new String[] {
              "policy", "whatif", "--config", config.toString(), "--policy", candidate.toString()
            })) {
      Cli.Run backwards =
          Cli.portcullis(with(command, "--since", "2026-03-02", "--until", "2026-03-01"));
      assertThat(backwards.exitCode()).as(String.join(" ", command)).isEqualTo(2);
      assertThat(backwards.err()).as(String.join(" ", command)).contains("the time range is empty");

      Cli.Run none = Cli.portcullis(with(command, "--since", "2099-01-01"));
      assertThat(none.exitCode()).as(String.join(" ", command)).isEqualTo(2);
      assertThat(none.err())
          .as(String.join(" ", command))
          .contains("no session in the journal was opened in that time range");
    }
    Cli.Run badPort =
        Cli.portcullis(
            "replay",
            "--config",
            config.toString(),
            "--target",
            "postgresql://u@127.0.0.1:99999/sandbox",
            "some-session");
    assertThat(badPort.exitCode()).isEqualTo(2);
    assertThat(badPort.err()).contains("names port 99999, which is not a TCP port");
  }

  private static String[] with(String[] command, String... more) {
    String[] args = Arrays.copyOf(command, command.length + more.length);
    System.arraycopy(more, 0, args, command.length, more.length);
    return args;
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

  private static StatementReceived received(List<SessionEvent> session, long statement) {
    return session.stream()
        .filter(e -> e instanceof StatementReceived r && r.statement() == statement)
        .map(StatementReceived.class::cast)
        .findFirst()
        .orElseThrow();
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
