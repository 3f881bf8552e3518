package io.portcullis.node.testing;

import com.fasterxml.jackson.databind.JsonNode;
import io.portcullis.node.GatewayNode;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.SessionClosed;
import io.portcullis.persistence.audit.SessionEvent.StatementReceived;
import io.portcullis.policy.identity.DevIssuer;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/**
 * A gateway with a PostgreSQL journal, a sealing key and a masking key, in front of a small bank
 * schema, and one agent session recorded through it: reads over both protocols, prepared statements
 * with parameters, writes, a COPY, a delete approved by an analyst and a denied DROP.
 */
public final class RecordedBank implements AutoCloseable {

  public static final String SCHEMA =
      """
      DROP SCHEMA IF EXISTS replay_bank CASCADE;
      CREATE SCHEMA replay_bank;
      CREATE TABLE replay_bank.customers (id int PRIMARY KEY, name text, ssn text, email text);
      INSERT INTO replay_bank.customers VALUES
        (1, 'Alice', '123-45-6789', 'alice@example.com'),
        (2, 'Bob', '234-56-7891', 'bob@example.com'),
        (3, 'Cleo', '345-67-8912', 'cleo@example.com');
      CREATE TABLE replay_bank.branches (id int PRIMARY KEY, city text);
      INSERT INTO replay_bank.branches VALUES (1, 'Zurich'), (2, 'Basel');
      """;

  public static final String POLICY =
      """
      default: allow
      rules:
        - id: no-ddl
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
          - {id: ssn, columns: [replay_bank.customers.ssn], strategy: partial, keep: 4}
          - {id: email, columns: [replay_bank.customers.email], strategy: hash}
      """;

  public final GatewayNode gateway;
  public final DevIssuer issuer;
  public final Path config;
  public final String journalDatabase;
  public final String session;
  public final Path dir;

  private RecordedBank(
      GatewayNode gateway,
      DevIssuer issuer,
      Path config,
      String journalDatabase,
      String session,
      Path dir) {
    this.gateway = gateway;
    this.issuer = issuer;
    this.config = config;
    this.journalDatabase = journalDatabase;
    this.session = session;
    this.dir = dir;
  }

  /** Creates the schema in the tests' database and in {@code sandboxes}, then records. */
  public static RecordedBank record(Path dir, String name, String... sandboxes) throws Exception {
    String journalDatabase = "portcullis_" + name + "_journal";
    TestPostgres.recreateDatabase(journalDatabase);
    for (String sandbox : sandboxes) {
      TestPostgres.recreateDatabase(sandbox);
    }
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute(SCHEMA);
    }
    for (String sandbox : sandboxes) {
      try (Connection c = TestPostgres.direct(sandbox);
          Statement s = c.createStatement()) {
        s.execute(SCHEMA);
      }
    }
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, POLICY);
    Path devKey = dir.resolve("dev.jwk");
    Path sealingKey = dir.resolve("sealing.key");
    Path maskingKey = dir.resolve("masking.key");
    for (Path key : List.of(sealingKey, maskingKey)) {
      byte[] bytes = new byte[32];
      new SecureRandom().nextBytes(bytes);
      Files.write(key, bytes);
    }
    TestPostgres.Server pg = TestPostgres.server();
    String keys =
        """
        portcullis.journal {
          url = "%s"
          user = "%s"
          password = "%s"
          sealing-key-file = "%s"
        }
        portcullis.policy.masking-key-file = "%s"
        """
            .formatted(
                pg.jdbcUrl(journalDatabase), pg.user(), pg.password(), sealingKey, maskingKey);
    GatewayNode gateway = TestGateway.start(TestGateway.policyWithDevTokens(policy, devKey) + keys);
    DevIssuer issuer = DevIssuer.load(devKey);
    Path config = dir.resolve("gateway.conf");
    Files.writeString(config, TestGateway.hocon(keys));
    try {
      recordBankSession(gateway, issuer);
      String session =
          await(
              () ->
                  closedSession(
                      journalDatabase,
                      events ->
                          events.stream()
                              .anyMatch(
                                  e ->
                                      e instanceof StatementReceived r
                                          && r.sql().startsWith("DROP TABLE replay_bank"))));
      return new RecordedBank(gateway, issuer, config, journalDatabase, session, dir);
    } catch (Exception | Error e) {
      gateway.close();
      throw e;
    }
  }

  /** A token file for the CLI, naming {@code subject} in {@code groups}. */
  public Path tokenFile(String subject, Set<String> groups) throws Exception {
    Path file = dir.resolve(subject + ".token");
    Files.writeString(
        file, issuer.mint(subject, groups, false, Duration.ofMinutes(10), "portcullis") + "\n");
    return file;
  }

  /**
   * Records one more session, of {@code subject}, running each statement over the simple protocol.
   *
   * @return its id, once the journal holds its end
   */
  public String recordSession(String subject, String... statements) throws Exception {
    return recordSession(
        subject,
        c -> {
          try (Statement s = c.createStatement()) {
            for (String sql : statements) {
              s.execute(sql);
            }
          }
        });
  }

  /** A connection through the gateway as {@code subject}, an agent. */
  public Connection connect(String subject) throws SQLException {
    return DriverManager.getConnection(TestGateway.jdbcUrl(gateway, ""), agent(issuer, subject));
  }

  /** What a recorded session does on its connection. */
  @FunctionalInterface
  public interface Script {
    void run(Connection connection) throws Exception;
  }

  /**
   * Records one more session, of {@code subject}, doing what {@code script} does.
   *
   * @return its id, once the journal holds its end
   */
  public String recordSession(String subject, Script script) throws Exception {
    Set<String> before;
    try (Connection journal = TestPostgres.direct(journalDatabase)) {
      before = Set.copyOf(JournalContents.read(journal, JournalReader::sessions));
    }
    try (Connection c = connect(subject)) {
      script.run(c);
    }
    return await(
        () ->
            closedSession(
                journalDatabase,
                events ->
                    !before.contains(((SessionEvent.SessionOpened) events.get(0)).session())));
  }

  /** Runs {@code portcullis replay} against this gateway and its journal, as {@code token}. */
  public Cli.Run replay(Path token, String... args) {
    List<String> all =
        new ArrayList<>(
            List.of(
                "replay",
                "--config",
                config.toString(),
                "--url",
                adminUrl(),
                "--token-file",
                token.toString()));
    all.addAll(List.of(args));
    return Cli.portcullis(all.toArray(String[]::new));
  }

  /** How many replays the journal records. */
  public long replayRecords() throws SQLException {
    try (Connection c = TestPostgres.direct(journalDatabase);
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT count(*) FROM event_journal WHERE persistence_id LIKE 'Replay|%'"
                    + " AND event_ser_manifest LIKE '%ReplayRecorded'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  public String adminUrl() {
    return "http://127.0.0.1:" + gateway.adminPort();
  }

  public static String sandboxUrl(String database) {
    TestPostgres.Server pg = TestPostgres.server();
    return "postgresql://" + pg.user() + "@" + pg.host() + ":" + pg.port() + "/" + database;
  }

  /** pgjdbc's login as an agent: only the statements a test runs are recorded. */
  private static Properties agent(DevIssuer issuer, String subject) {
    Properties props = new Properties();
    props.setProperty("user", subject);
    props.setProperty(
        "password",
        issuer.mint(subject, Set.of("agents"), true, Duration.ofMinutes(5), "portcullis"));
    // Without it pgjdbc sets extra_float_digits by a statement of its own.
    props.setProperty("assumeMinServerVersion", "15");
    // Statements over the simple protocol, prepared statements over the extended one.
    props.setProperty("preferQueryMode", "extendedForPrepared");
    return props;
  }

  private static void recordBankSession(GatewayNode gateway, DevIssuer issuer) throws Exception {
    Properties props = agent(issuer, "recon-bot");
    props.setProperty("ApplicationName", "recon");
    try (Connection c = DriverManager.getConnection(TestGateway.jdbcUrl(gateway, ""), props)) {
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery(
                  "SELECT id, name, ssn, email FROM replay_bank.customers ORDER BY id")) {
        while (rs.next()) {
          rs.getString(3);
        }
      }
      // Five runs: the fifth is a named statement, and pgjdbc asks for binary results.
      try (PreparedStatement select =
          c.prepareStatement("SELECT id, name, ssn FROM replay_bank.customers WHERE id = ?")) {
        for (int id : new int[] {1, 2, 1, 2, 1}) {
          select.setInt(1, id);
          try (ResultSet rs = select.executeQuery()) {
            rs.next();
          }
        }
      }
      try (PreparedStatement insert =
          c.prepareStatement("INSERT INTO replay_bank.customers VALUES (?, ?, ?, ?)")) {
        insert.setInt(1, 4);
        insert.setString(2, "Dora");
        insert.setString(3, "456-78-9123");
        insert.setString(4, "dora@example.com");
        insert.executeUpdate();
      }
      try (Statement s = c.createStatement()) {
        s.executeUpdate("UPDATE replay_bank.customers SET name = 'Bobby' WHERE id = 2");
      }
      StringWriter copied = new StringWriter();
      new CopyManager(c.unwrap(BaseConnection.class))
          .copyOut("COPY replay_bank.branches TO STDOUT", copied);
      CompletableFuture<Integer> delete =
          CompletableFuture.supplyAsync(
              () -> {
                try (Statement s = c.createStatement()) {
                  return s.executeUpdate("DELETE FROM replay_bank.customers WHERE id = 3");
                } catch (SQLException e) {
                  throw new IllegalStateException(e);
                }
              });
      approve(gateway, issuer, "DELETE FROM replay_bank.customers WHERE id = 3");
      delete.get(20, TimeUnit.SECONDS);
      try (Statement s = c.createStatement()) {
        s.execute("DROP TABLE replay_bank.customers");
      } catch (SQLException expected) {
        // denied by policy: recorded, never run
      }
      try (Statement s = c.createStatement();
          ResultSet rs =
              s.executeQuery("SELECT upper(name), ssn FROM replay_bank.customers ORDER BY id")) {
        while (rs.next()) {
          rs.getString(1);
        }
      }
    }
  }

  /** Approves the statement waiting for approval with this text, once it waits, as an analyst. */
  public void approve(String statement) throws Exception {
    approve(gateway, issuer, statement);
  }

  private static void approve(GatewayNode gateway, DevIssuer issuer, String statement)
      throws Exception {
    AdminClient admin = new AdminClient(gateway);
    String carol =
        issuer.mint(
            "carol", Set.of("security-analysts"), false, Duration.ofMinutes(5), "portcullis");
    // The list trails the journal: an approval already decided can still be listed as pending.
    String approval =
        await(
            () -> {
              for (JsonNode pending :
                  admin.get("/api/v1/approvals", carol).body().path("approvals")) {
                if (pending.path("statement").asText().equals(statement)) {
                  return pending.path("id").asText();
                }
              }
              return null;
            });
    admin.post("/api/v1/approvals/" + approval + "/approve", carol, "{}");
  }

  /** The first session that {@code ours} picks out by its events, once it has closed. */
  private static String closedSession(String journalDatabase, Predicate<List<SessionEvent>> ours)
      throws Exception {
    try (Connection journal = TestPostgres.direct(journalDatabase)) {
      for (List<ChainCheck.Stored<SessionEvent>> stored : JournalContents.sessions(journal)) {
        List<SessionEvent> events = stored.stream().map(ChainCheck.Stored::event).toList();
        if (ours.test(events) && events.get(events.size() - 1) instanceof SessionClosed) {
          return ((SessionEvent.SessionOpened) events.get(0)).session();
        }
      }
    }
    return null;
  }

  public interface Probe<T> {
    T get() throws Exception;
  }

  public static <T> T await(Probe<T> probe) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      T value = probe.get();
      if (value != null) {
        return value;
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 20 s");
      }
      Thread.sleep(100);
    }
  }

  @Override
  public void close() {
    gateway.close();
  }
}
