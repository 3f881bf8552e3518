package io.portcullis.node.benchmarks;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.config.TargetSettings;
import io.portcullis.node.masking.Lineages;
import io.portcullis.node.policy.CatalogReader;
import io.portcullis.node.policy.TargetCatalogs;
import io.portcullis.node.replay.ReplayReport;
import io.portcullis.node.replay.Sandbox;
import io.portcullis.node.replay.SandboxConnection;
import io.portcullis.node.replay.SessionReplay;
import io.portcullis.node.testing.JournalContents;
import io.portcullis.node.testing.RecordedBank;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.RecordedSession;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.policy.masking.ValueMasker;
import io.portcullis.policy.rules.PolicyParser;
import io.portcullis.policy.sql.SqlAnalyzer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * {@code bench/replay.sh}: records a session of N statements through a gateway (a third each of
 * simple reads, prepared reads with a parameter, and simple updates), then runs the same statements
 * against the sandbox directly with pgjdbc (one rolled-back transaction, as the replay uses) and
 * replays the session there, alternating, and prints both rates and their ratio. The budget: replay
 * at least 0.5 × pgjdbc.
 */
public final class ReplaySpeed {

  private static final String SANDBOX = "portcullis_bench_replay_sandbox";

  /** Rounds run first and not counted: the JIT compiles the replay's path during the first ones. */
  private static final int WARM_UP_ROUNDS = 3;

  public static void main(String[] args) throws Exception {
    int statements = args.length > 0 ? Integer.parseInt(args[0]) : 3000;
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 3;
    Path dir = Files.createTempDirectory("replay-bench");
    String journalDatabase = "portcullis_bench_replay_journal";
    for (String db : List.of(journalDatabase, SANDBOX)) {
      TestPostgres.recreateDatabase(db);
    }
    for (String db : List.of(TestPostgres.DATABASE, SANDBOX)) {
      try (Connection c = TestPostgres.direct(db);
          Statement s = c.createStatement()) {
        s.execute(RecordedBank.SCHEMA);
        s.execute(
            "INSERT INTO replay_bank.customers SELECT g, 'customer ' || g, '123-45-' || lpad(g::text,"
                + " 4, '0'), 'c' || g || '@example.com' FROM generate_series(10, 10009) g");
      }
    }
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(policy, RecordedBank.POLICY);
    Path sealingKey = dir.resolve("sealing.key");
    Path maskingKey = dir.resolve("masking.key");
    byte[] sealingBytes = random();
    Files.write(sealingKey, sealingBytes);
    Files.write(maskingKey, random());
    TestPostgres.Server pg = TestPostgres.server();
    String extra =
        """
        portcullis.journal { url = "%s", user = "%s", password = "%s", sealing-key-file = "%s" }
        portcullis.policy.masking-key-file = "%s"
        portcullis.policy.file = "%s"
        """
            .formatted(
                pg.jdbcUrl(journalDatabase),
                pg.user(),
                pg.password(),
                sealingKey,
                maskingKey,
                policy);
    String session;
    try (GatewayNode gateway = TestGateway.start(extra)) {
      Properties props = new Properties();
      props.setProperty("user", "bench");
      props.setProperty("preferQueryMode", "extendedForPrepared");
      try (Connection c = DriverManager.getConnection(TestGateway.jdbcUrl(gateway, ""), props)) {
        run(c, statements);
      }
      session = RecordedBank.await(() -> closed(journalDatabase));
    }
    RecordedSession recorded;
    try (Connection journal = TestPostgres.direct(journalDatabase)) {
      recorded =
          JournalContents.sessions(journal).stream()
              .map(events -> events.stream().map(ChainCheck.Stored::event).toList())
              .filter(
                  events -> ((SessionEvent.SessionOpened) events.get(0)).session().equals(session))
              .map(events -> RecordedSession.of(events).orElseThrow())
              .findFirst()
              .orElseThrow();
    }
    var parsed = PolicyParser.parse("bench", RecordedBank.POLICY);
    TargetSettings target =
        Sandbox.parse(RecordedBank.sandboxUrl(SANDBOX))
            .asTarget(Optional.of(pg.password()), Duration.ofSeconds(10));
    ScheduledExecutorService blocking = Executors.newSingleThreadScheduledExecutor();
    TargetCatalogs catalogs =
        new TargetCatalogs(
            Map.of("sandbox", target), CatalogReader::load, Duration.ofDays(1), blocking);
    catalogs.start(Duration.ofSeconds(30));
    try (SandboxConnection connection = SandboxConnection.open(target, Duration.ofSeconds(60));
        Lineages lineages = new Lineages(Map.of("sandbox", target), catalogs, blocking)) {
      SessionReplay replay =
          new SessionReplay(
              connection,
              () -> catalogs.current("sandbox"),
              (sql, n) -> lineages.of("sandbox", sql, n),
              new SqlAnalyzer(),
              ValueMasker.fromKeyFile(maskingKey),
              ClientDataSeal.withKey(sealingBytes),
              false);
      List<Double> ratios = new ArrayList<>();
      for (int round = 1 - WARM_UP_ROUNDS; round <= rounds; round++) {
        Properties props = new Properties();
        props.setProperty("user", pg.user());
        props.setProperty("password", pg.password());
        props.setProperty("preferQueryMode", "extendedForPrepared");
        long direct;
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(SANDBOX), props)) {
          c.setAutoCommit(false);
          long start = System.nanoTime();
          run(c, statements);
          direct = System.nanoTime() - start;
          c.rollback();
        }
        long start = System.nanoTime();
        ReplayReport report =
            new ReplayReport(
                "bench",
                session,
                "bench",
                parsed.version(),
                SANDBOX,
                false,
                replay.replay(recorded, version -> parsed));
        long replayed = System.nanoTime() - start;
        double directRate = statements / (direct / 1e9);
        double replayRate = statements / (replayed / 1e9);
        System.out.printf(
            "%s: pgjdbc %.0f statements/s, replay %.0f statements/s, ratio %.2f (%s)%n",
            round < 1 ? "warm-up" : "round " + round,
            directRate,
            replayRate,
            replayRate / directRate,
            report.summary());
        if (round >= 1) {
          ratios.add(replayRate / directRate);
        }
      }
      Collections.sort(ratios);
      System.out.printf("median ratio over %d rounds: %.2f%n", rounds, ratios.get(rounds / 2));
    } finally {
      catalogs.close();
      blocking.shutdownNow();
    }
  }

  /** The session's statements, as the agent sends them and as the direct run repeats them. */
  private static void run(Connection c, int statements) throws Exception {
    try (Statement simple = c.createStatement();
        PreparedStatement prepared =
            c.prepareStatement("SELECT id, name, ssn FROM replay_bank.customers WHERE id = ?")) {
      for (int i = 0; i < statements; i++) {
        int id = 10 + (i * 7919) % 10000;
        switch (i % 3) {
          case 0 -> {
            try (ResultSet rs =
                simple.executeQuery(
                    "SELECT id, name, email FROM replay_bank.customers WHERE id = " + id)) {
              rs.next();
            }
          }
          case 1 -> {
            prepared.setInt(1, id);
            try (ResultSet rs = prepared.executeQuery()) {
              rs.next();
            }
          }
          default ->
              simple.executeUpdate(
                  "UPDATE replay_bank.customers SET name = 'seen " + i + "' WHERE id = " + id);
        }
      }
    }
  }

  private static String closed(String journalDatabase) throws Exception {
    try (Connection journal = TestPostgres.direct(journalDatabase)) {
      for (List<ChainCheck.Stored<SessionEvent>> events : JournalContents.sessions(journal)) {
        if (events.get(events.size() - 1).event() instanceof SessionEvent.SessionClosed
            && events.size() > 10) {
          return ((SessionEvent.SessionOpened) events.get(0).event()).session();
        }
      }
    }
    return null;
  }

  private static byte[] random() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return key;
  }
}
