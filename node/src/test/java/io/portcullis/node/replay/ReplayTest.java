package io.portcullis.node.replay;

import static io.portcullis.node.testing.RecordedBank.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import io.portcullis.node.testing.AdminClient;
import io.portcullis.node.testing.Cli;
import io.portcullis.node.testing.RecordedBank;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.persistence.audit.ClientDataSeal;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * {@code portcullis replay} end to end: a session recorded through the gateway is replayed into a
 * second database on the same PostgreSQL, statement by statement, with its masked results compared
 * to the journal's digests.
 */
class ReplayTest {

  private static final String SANDBOX = "portcullis_replay_sandbox";
  private static final ObjectMapper JSON = new ObjectMapper();

  @TempDir static Path dir;
  private static RecordedBank bank;
  private static Path auditor;

  @BeforeAll
  static void record() throws Exception {
    bank = RecordedBank.record(dir, "replay", SANDBOX);
    auditor = bank.tokenFile("dana", Set.of("auditor"));
  }

  @AfterAll
  static void stop() {
    bank.close();
  }

  @Test
  void replayReproducesEveryRecordedResultAndRollsBack() throws Exception {
    long replaysBefore = bank.replayRecords();
    Cli.Run run = bank.replay(auditor, bank.session, "--target", RecordedBank.sandboxUrl(SANDBOX));

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out())
        .contains("rolled back")
        .containsPattern("\\s+identical\\s+simple\\s+SELECT id, name, ssn, email FROM")
        .containsPattern("\\s+identical\\s+extended\\s+SELECT id, name, ssn FROM replay_bank")
        .containsPattern("\\s+identical\\s+extended\\s+INSERT INTO replay_bank.customers")
        .containsPattern("\\s+identical\\s+simple\\s+COPY replay_bank.branches TO STDOUT")
        .containsPattern("\\s+identical\\s+simple\\s+DELETE FROM replay_bank.customers")
        .containsPattern("\\s+denied\\s+simple\\s+DROP TABLE replay_bank.customers")
        .containsPattern("\\s+identical\\s+simple\\s+SELECT upper\\(name\\), ssn")
        .contains("12 statements: 11 identical, 0 differ, 1 denied (not run)");
    assertThat(inSandbox("SELECT count(*) FROM replay_bank.customers"))
        .as("the replay's writes were rolled back")
        .isEqualTo("3");
    assertThat(bank.replayRecords()).as("the replay is journaled").isEqualTo(replaysBefore + 1);
    assertThat(lastReplayRecord()).contains("dana", bank.session, SANDBOX);
  }

  @Test
  void aRowChangedInTheSandboxMakesTheStatementsThatReadItDiffer() throws Exception {
    inSandbox("UPDATE replay_bank.customers SET ssn = '999-99-9999' WHERE id = 1");
    try {
      Cli.Run run =
          bank.replay(
              auditor,
              bank.session,
              "--target",
              RecordedBank.sandboxUrl(SANDBOX),
              "--format",
              "json");

      assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(1);
      JsonNode report = JSON.readTree(run.out());
      List<String> differing = new ArrayList<>();
      for (JsonNode statement : report.path("statements")) {
        if (statement.path("result").asText().equals("DIFFERS")) {
          differing.add(statement.path("sql").asText());
          assertThat(statement.path("differences").toString()).contains("digest");
        }
      }
      assertThat(differing)
          .as("the three runs of the prepared statement for customer 1 differ, not those for 2")
          .containsExactly(
              "SELECT id, name, ssn, email FROM replay_bank.customers ORDER BY id",
              "SELECT id, name, ssn FROM replay_bank.customers WHERE id = $1",
              "SELECT id, name, ssn FROM replay_bank.customers WHERE id = $1",
              "SELECT id, name, ssn FROM replay_bank.customers WHERE id = $1",
              "SELECT upper(name), ssn FROM replay_bank.customers ORDER BY id");
      assertThat(report.path("summary").asText())
          .isEqualTo("12 statements: 6 identical, 5 differ, 1 denied (not run)");
    } finally {
      inSandbox("UPDATE replay_bank.customers SET ssn = '123-45-6789' WHERE id = 1");
    }
  }

  /**
   * Reads and writes are sent without waiting for the answers before them: when one fails only in
   * the sandbox, those already sent behind it fail too, and all are reported as not run.
   */
  @Test
  void aStatementThatFailsOnlyInTheSandboxLeavesTheRestNotRunAndTheSandboxUnchanged()
      throws Exception {
    String session =
        bank.recordSession(
            "recon-bot",
            "SELECT city FROM replay_bank.branches WHERE id = 1",
            "INSERT INTO replay_bank.branches VALUES (7, 'Bern')",
            "SELECT city FROM replay_bank.branches ORDER BY id",
            "UPDATE replay_bank.branches SET city = 'Geneva' WHERE id = 2",
            "SELECT count(*) FROM replay_bank.customers");
    inSandbox("INSERT INTO replay_bank.branches VALUES (7, 'Lugano')");
    try {
      Cli.Run run =
          bank.replay(
              auditor, session, "--target", RecordedBank.sandboxUrl(SANDBOX), "--format", "json");

      assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(1);
      List<String> outcomes = outcomes(run);
      String notRun =
          "NOT_REPLAYABLE not run: statement 2 failed where the recording did not, and aborted the"
              + " replay's transaction";
      assertThat(outcomes).containsExactly("IDENTICAL ", "DIFFERS ", notRun, notRun, notRun);
      assertThat(inSandbox("SELECT string_agg(city, ',' ORDER BY id) FROM replay_bank.branches"))
          .isEqualTo("Zurich,Basel,Lugano");
    } finally {
      inSandbox("DELETE FROM replay_bank.branches WHERE id = 7");
    }
  }

  /**
   * The rows a client sent by COPY FROM STDIN are journaled sealed, in chunks, and sent again as
   * recorded: the COPY and the read after it are identical, and with another sealing key the COPY
   * is not replayable and the read after it differs.
   */
  @Test
  void aCopyFromStdinIsReplayedWithTheDataTheClientSent() throws Exception {
    StringBuilder rows = new StringBuilder();
    for (int id = 100; rows.length() < 600 * 1024; id++) {
      rows.append(id).append('\t').append("Branch ").append("x".repeat(60)).append(id).append('\n');
    }
    String session =
        bank.recordSession(
            "recon-bot",
            c -> {
              new CopyManager(c.unwrap(BaseConnection.class))
                  .copyIn(
                      "COPY replay_bank.branches FROM STDIN",
                      new ByteArrayInputStream(rows.toString().getBytes(StandardCharsets.UTF_8)));
              try (Statement s = c.createStatement()) {
                s.execute("SELECT count(*), max(city) FROM replay_bank.branches WHERE id >= 100");
              }
            });
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DELETE FROM replay_bank.branches WHERE id >= 100");
    }

    Cli.Run run =
        bank.replay(
            auditor, session, "--target", RecordedBank.sandboxUrl(SANDBOX), "--format", "json");
    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(outcomes(run)).containsExactly("IDENTICAL ", "IDENTICAL ");
    assertThat(inSandbox("SELECT count(*) FROM replay_bank.branches"))
        .as("the copied rows were rolled back")
        .isEqualTo("2");

    Cli.Run withAnotherKey = replayWithoutSealingKey(session, "--format", "json");
    assertThat(withAnotherKey.exitCode())
        .as(withAnotherKey.out() + withAnotherKey.err())
        .isEqualTo(1);
    assertThat(outcomes(withAnotherKey))
        .containsExactly(
            "NOT_REPLAYABLE its COPY data cannot be unsealed: sealed under key "
                + ClientDataSeal.keyId(Files.readAllBytes(bank.dir.resolve("sealing.key")))
                + ", which is not the configured sealing key",
            "DIFFERS ");
  }

  /**
   * The client's transactions are reproduced inside the replay's: what it rolled back (or what
   * failed with its transaction) is rolled back in the sandbox too, and statements PostgreSQL
   * refused because the transaction had failed are not run.
   */
  @Test
  void theClientsTransactionsAreReproducedInsideTheReplays() throws Exception {
    String session =
        bank.recordSession(
            "recon-bot",
            c -> {
              c.setAutoCommit(false);
              try (Statement s = c.createStatement()) {
                s.execute("INSERT INTO replay_bank.branches VALUES (20, 'Sion')");
                c.rollback();
                s.execute("INSERT INTO replay_bank.branches VALUES (21, 'Thun')");
                c.commit();
                s.execute("INSERT INTO replay_bank.branches VALUES (22, 'Zug')");
                assertThatThrownBy(() -> s.execute("SELECT 1 / 0"))
                    .isInstanceOf(SQLException.class);
                assertThatThrownBy(() -> s.execute("SELECT 1")).isInstanceOf(SQLException.class);
                c.rollback();
                c.setAutoCommit(true);
                s.execute("SELECT string_agg(city, ',') FROM replay_bank.branches WHERE id >= 20");
              }
            });
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DELETE FROM replay_bank.branches WHERE id >= 20");
    }

    Cli.Run run =
        bank.replay(
            auditor, session, "--target", RecordedBank.sandboxUrl(SANDBOX), "--format", "json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    String begins =
        "SKIPPED the client's transaction begins: SAVEPOINT portcullis_client in the replay's";
    String rolledBack =
        "SKIPPED the client's transaction rolled back: ROLLBACK TO SAVEPOINT portcullis_client";
    assertThat(outcomes(run))
        .containsExactly(
            begins,
            "IDENTICAL ",
            rolledBack,
            begins,
            "IDENTICAL ",
            "SKIPPED the client's transaction committed: RELEASE SAVEPOINT portcullis_client",
            begins,
            "IDENTICAL ",
            "IDENTICAL ",
            "SKIPPED not run when recorded: the client's transaction had already failed",
            rolledBack,
            "IDENTICAL ");
  }

  /**
   * A policy changed during a session masks the statements after the change under the new version:
   * the replay masks each statement under the version it was decided under.
   */
  @Test
  void eachStatementIsMaskedUnderThePolicyVersionItRanUnder() throws Exception {
    Path policy = bank.dir.resolve("policy.yaml");
    String namesMasked =
        RecordedBank.POLICY.replace(
            "strategy: hash}",
            "strategy: hash}\n    - {id: names, columns: [replay_bank.customers.name],"
                + " strategy: redact}");
    String read = "SELECT name FROM replay_bank.customers WHERE id = 1";
    String clear;
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(read)) {
      rs.next();
      clear = rs.getString(1);
    }
    try {
      String session =
          bank.recordSession(
              "recon-bot",
              c -> {
                try (Statement s = c.createStatement()) {
                  s.execute(read);
                  Files.writeString(policy, namesMasked);
                  await(
                      () -> {
                        try (ResultSet rs = s.executeQuery(read)) {
                          rs.next();
                          return clear.equals(rs.getString(1)) ? null : true;
                        }
                      });
                }
              });
      Cli.Run run =
          bank.replay(
              auditor, session, "--target", RecordedBank.sandboxUrl(SANDBOX), "--format", "json");

      assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
      assertThat(outcomes(run)).isNotEmpty().allMatch(outcome -> outcome.equals("IDENTICAL "));
    } finally {
      Files.writeString(policy, RecordedBank.POLICY);
      try (Connection c = bank.connect("recon-bot");
          Statement s = c.createStatement()) {
        await(
            () -> {
              try (ResultSet rs = s.executeQuery(read)) {
                rs.next();
                return clear.equals(rs.getString(1)) ? true : null;
              }
            });
      }
    }
  }

  /** A statement that failed when recorded on a table that did not exist says nothing of schema. */
  @Test
  void aSessionThatQueriedAMissingTableIsStillReplayable() throws Exception {
    String session =
        bank.recordSession(
            "recon-bot",
            c -> {
              try (Statement s = c.createStatement()) {
                assertThatThrownBy(() -> s.execute("SELECT * FROM replay_bank.nowhere"))
                    .isInstanceOf(SQLException.class);
                s.execute("SELECT city FROM replay_bank.branches WHERE id = 1");
              }
            });

    Cli.Run run =
        bank.replay(
            auditor, session, "--target", RecordedBank.sandboxUrl(SANDBOX), "--format", "json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(outcomes(run)).containsExactly("IDENTICAL ", "IDENTICAL ");
  }

  /**
   * A value is read as the type the client's Parse declared (pgjdbc declares int4 for setInt), not
   * as the type the sandbox would infer from the statement alone.
   */
  @Test
  void boundValuesKeepTheTypesTheClientDeclared() throws Exception {
    String session =
        bank.recordSession(
            "recon-bot",
            c -> {
              try (PreparedStatement p = c.prepareStatement("SELECT pg_typeof(?)::text")) {
                p.setInt(1, 42);
                try (ResultSet rs = p.executeQuery()) {
                  rs.next();
                  assertThat(rs.getString(1)).isEqualTo("integer");
                }
              }
            });
    Cli.Run run =
        bank.replay(
            auditor, session, "--target", RecordedBank.sandboxUrl(SANDBOX), "--format", "json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(outcomes(run)).containsExactly("IDENTICAL ");
  }

  /**
   * A prepared statement under a review rule is journaled when parsed and again when bound, where
   * it is held for approval with its values: the replay runs it once, as approved, and does not
   * call the record of its Parse denied.
   */
  @Test
  void aPreparedStatementHeldForApprovalIsReplayedOnceAsApproved() throws Exception {
    String row = "INSERT INTO replay_bank.branches VALUES (9, 'Chur')";
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute(row);
    }
    inSandbox(row);
    try {
      String session =
          bank.recordSession(
              "recon-bot",
              c -> {
                CompletableFuture<Integer> delete =
                    CompletableFuture.supplyAsync(
                        () -> {
                          try (PreparedStatement p =
                              c.prepareStatement("DELETE FROM replay_bank.branches WHERE id = ?")) {
                            p.setInt(1, 9);
                            return p.executeUpdate();
                          } catch (SQLException e) {
                            throw new IllegalStateException(e);
                          }
                        });
                bank.approve("DELETE FROM replay_bank.branches WHERE id = $1");
                assertThat(delete.get(20, TimeUnit.SECONDS)).isEqualTo(1);
              });
      Cli.Run run =
          bank.replay(
              auditor, session, "--target", RecordedBank.sandboxUrl(SANDBOX), "--format", "json");

      assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
      assertThat(outcomes(run))
          .containsExactly(
              "SKIPPED parsed under a review rule: held for approval when bound, statement 2",
              "IDENTICAL ");
    } finally {
      inSandbox("DELETE FROM replay_bank.branches WHERE id = 9");
    }
  }

  @Test
  void onlyAuditorsAndReplayersMayReplay() throws Exception {
    Cli.Run run =
        bank.replay(
            bank.tokenFile("mallory", Set.of("agents")),
            bank.session,
            "--target",
            RecordedBank.sandboxUrl(SANDBOX));

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("not authorised", "mallory may not replay sessions");
    assertThat(run.out()).isEmpty();
  }

  /** Refused before anything connects there: a login the target would refuse is not tried. */
  @Test
  void theGatewaysOwnTargetIsRefusedWithoutForce() {
    Cli.Run run =
        bank.replay(
            auditor,
            bank.session,
            "--target",
            "postgresql://no_such_role@"
                + TestPostgres.server().host()
                + ":"
                + TestPostgres.server().port()
                + "/"
                + TestPostgres.DATABASE);

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .contains("is the database of the gateway's target 'main'", "--force")
        .doesNotContain("no_such_role");
  }

  /** The gateway refuses it as well, whatever a command line checked before asking. */
  @Test
  void theGatewayRefusesToAuthoriseAReplayIntoItsOwnTargetWithoutForce() throws Exception {
    TestPostgres.Server pg = TestPostgres.server();
    String token = Files.readString(auditor).strip();
    String request =
        JSON.writeValueAsString(
            new Replays.Request(
                List.of(bank.session),
                pg.host(),
                pg.port(),
                TestPostgres.DATABASE,
                pg.user(),
                false,
                false));

    AdminClient.Reply reply = new AdminClient(bank.gateway).post("/api/v1/replays", token, request);

    assertThat(reply.status()).isEqualTo(403);
    assertThat(reply.body().toString())
        .contains("is the database of the gateway's target 'main'", "--force");
  }

  /**
   * A member of the replayer group may replay; with --force into the gateway's own target (still
   * rolled back), and the journal's record of the replay says who did, where, and that it was
   * forced.
   */
  @Test
  void aReplayerMayForceAReplayIntoTheGatewaysTargetAndTheRecordSaysSo() throws Exception {
    Cli.Run run =
        bank.replay(
            bank.tokenFile("rita", Set.of("replayer")),
            bank.session,
            "--target",
            RecordedBank.sandboxUrl(TestPostgres.DATABASE),
            "--force");

    assertThat(run.exitCode()).as(run.out() + run.err()).isIn(0, 1);
    assertThat(run.out()).contains("12 statements:", "rolled back");
    JsonNode record = new CBORMapper().readTree(lastReplayRecordBytes());
    assertThat(record.path("subject").asText()).isEqualTo("rita");
    assertThat(record.path("groups").toString()).contains("replayer");
    assertThat(record.path("force").asBoolean()).isTrue();
    assertThat(record.path("commit").asBoolean()).isFalse();
    assertThat(record.path("sandbox").asText()).endsWith("/" + TestPostgres.DATABASE);
  }

  @Test
  void unknownAndIncompleteSessionIdsAreRefused() {
    Cli.Run unknown =
        bank.replay(auditor, "no-such-session", "--target", RecordedBank.sandboxUrl(SANDBOX));
    assertThat(unknown.exitCode()).isEqualTo(2);
    assertThat(unknown.err()).contains("no session no-such-session in the journal");

    String prefix = bank.session.substring(0, 6);
    Cli.Run incomplete = bank.replay(auditor, prefix, "--target", RecordedBank.sandboxUrl(SANDBOX));
    assertThat(incomplete.exitCode()).isEqualTo(2);
    assertThat(incomplete.err()).contains(prefix + " is not a whole session id", bank.session);
  }

  @Test
  void anUnreachableSandboxOrOneWithAnotherSchemaIsRefused() {
    TestPostgres.Server pg = TestPostgres.server();
    Cli.Run unreachable =
        bank.replay(auditor, bank.session, "--target", "postgresql://postgres@127.0.0.1:1/sandbox");
    assertThat(unreachable.exitCode()).isEqualTo(2);
    assertThat(unreachable.err()).contains("cannot connect to the sandbox at 127.0.0.1:1/sandbox");

    Cli.Run otherSchema =
        bank.replay(auditor, bank.session, "--target", RecordedBank.sandboxUrl("postgres"));
    assertThat(otherSchema.exitCode()).isEqualTo(2);
    assertThat(otherSchema.err())
        .contains("lacks replay_bank.customers", "its schema is not the recorded target's");
  }

  @Test
  void withoutTheSealingKeyBoundValuesAreReportedNotReplayable() throws Exception {
    Cli.Run run = replayWithoutSealingKey(bank.session);

    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(1);
    assertThat(run.out())
        .containsPattern("not-replayable\\s+extended\\s+INSERT INTO replay_bank.customers")
        .contains("which is not the configured sealing key")
        // the INSERT did not run, so the last read returns one row fewer than recorded
        .containsPattern("differs\\s+simple\\s+SELECT upper")
        .contains("12 statements: 4 identical, 1 differ, 1 denied (not run), 6 not replayable");
  }

  /** Replays a session into the sandbox with a configuration that has no sealing key. */
  private static Cli.Run replayWithoutSealingKey(String session, String... options)
      throws Exception {
    Path config = dir.resolve("no-sealing-key.conf");
    Files.writeString(
        config,
        Files.readString(bank.config, StandardCharsets.UTF_8)
            .replaceAll("sealing-key-file = \"[^\"]*\"", ""));
    List<String> arguments =
        new ArrayList<>(
            List.of(
                "replay",
                session,
                "--config",
                config.toString(),
                "--url",
                bank.adminUrl(),
                "--token-file",
                auditor.toString(),
                "--target",
                RecordedBank.sandboxUrl(SANDBOX)));
    arguments.addAll(List.of(options));
    return Cli.portcullis(arguments.toArray(String[]::new));
  }

  /** Each statement's result and reason, from a replay's JSON report. */
  private static List<String> outcomes(Cli.Run run) throws Exception {
    List<String> outcomes = new ArrayList<>();
    for (JsonNode statement : JSON.readTree(run.out()).path("statements")) {
      outcomes.add(statement.path("result").asText() + " " + statement.path("reason").asText());
    }
    return outcomes;
  }

  /** Runs {@code sql} in the sandbox, outside any replay; the first value it returns, if any. */
  private static String inSandbox(String sql) throws SQLException {
    try (Connection c = TestPostgres.direct(SANDBOX);
        Statement s = c.createStatement()) {
      if (!s.execute(sql)) {
        return null;
      }
      try (ResultSet rs = s.getResultSet()) {
        rs.next();
        return rs.getString(1);
      }
    }
  }

  /** The last replay record's payload: CBOR keeps its strings as UTF-8. */
  private static String lastReplayRecord() throws Exception {
    return new String(lastReplayRecordBytes(), StandardCharsets.ISO_8859_1);
  }

  private static byte[] lastReplayRecordBytes() throws Exception {
    try (Connection c = TestPostgres.direct(bank.journalDatabase);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT event_payload FROM event_journal WHERE persistence_id LIKE 'Replay|%'"
                    + " ORDER BY ordering DESC LIMIT 1")) {
      rs.next();
      return rs.getBytes(1);
    }
  }
}
