package io.portcullis.node.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.testing.Cli;
import io.portcullis.node.testing.GatewayProcess;
import io.portcullis.node.testing.JournalContents;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import io.portcullis.persistence.audit.SessionEvent.StatementReceived;
import io.portcullis.policy.identity.DevIssuer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A gateway killed with SIGKILL under load loses nothing it acted on: every statement that reached
 * the upstream, and every one a client saw succeed, is in the journal with its decision, the chains
 * verify, and a gateway restarted on the same journal carries on.
 */
class JournalDurabilityTest {

  private static final String JOURNAL_DB = "portcullis_durability_it";
  private static final Pattern ROW = Pattern.compile("VALUES \\((\\d+), (\\d+)\\)");
  private static final int CLIENTS = 4;

  @TempDir Path dir;

  @Test
  void everyStatementThatRanIsJournaledAfterAKillDashNine() throws Exception {
    TestPostgres.recreateDatabase(JOURNAL_DB);
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS durability_log");
      s.execute("CREATE TABLE durability_log (client int, n int, PRIMARY KEY (client, n))");
    }
    Path policy = Files.writeString(dir.resolve("policy.yaml"), "default: allow\nrules: []\n");
    Path key = dir.resolve("dev.jwk");
    TestPostgres.Server pg = TestPostgres.server();
    String journal =
        """
        portcullis.journal { url = "%s", user = "%s", password = "%s" }
        """
            .formatted(pg.jdbcUrl(JOURNAL_DB), pg.user(), pg.password());
    String config = TestGateway.hocon(TestGateway.policyWithDevTokens(policy, key) + journal);
    Set<String> acknowledged = ConcurrentHashMap.newKeySet();

    try (GatewayProcess gateway = GatewayProcess.start(dir, "first", config)) {
      DevIssuer issuer = DevIssuer.load(key);
      CountDownLatch running = new CountDownLatch(CLIENTS * 20);
      List<Thread> clients = new ArrayList<>();
      for (int client = 0; client < CLIENTS; client++) {
        int id = client;
        Thread thread =
            new Thread(
                () -> {
                  try (Connection c = connect(gateway.jdbcUrl(), issuer);
                      Statement s = c.createStatement()) {
                    for (int n = 0; ; n++) {
                      s.execute("INSERT INTO durability_log VALUES (" + id + ", " + n + ")");
                      acknowledged.add(id + "/" + n);
                      running.countDown();
                    }
                  } catch (Exception killed) {
                    // the gateway is gone: what this client saw succeed is in acknowledged
                  }
                });
        thread.start();
        clients.add(thread);
      }
      running.await();
      gateway.kill();
      for (Thread thread : clients) {
        thread.join(10_000);
      }
    }

    Set<String> ran = new HashSet<>();
    try (Connection c = TestPostgres.direct();
        ResultSet rows =
            c.createStatement().executeQuery("SELECT client || '/' || n FROM durability_log")) {
      while (rows.next()) {
        ran.add(rows.getString(1));
      }
    }
    Set<String> journaled = new HashSet<>();
    try (Connection j = TestPostgres.direct(JOURNAL_DB)) {
      for (List<ChainCheck.Stored<SessionEvent>> session : JournalContents.sessions(j)) {
        List<SessionEvent> events = session.stream().map(ChainCheck.Stored::event).toList();
        for (SessionEvent event : events) {
          if (event instanceof StatementReceived received) {
            Matcher row = ROW.matcher(received.sql());
            if (row.find() && decidedAllow(events, received.statement())) {
              journaled.add(row.group(1) + "/" + row.group(2));
            }
          }
        }
      }
    }
    assertThat(acknowledged).as("statements the clients saw succeed").hasSizeGreaterThan(20);
    assertThat(ran).as("rows in the upstream").containsAll(acknowledged);
    assertThat(journaled)
        .as("every statement that reached the upstream was journaled, with its decision")
        .containsAll(ran);

    try (GatewayProcess again = GatewayProcess.start(dir, "second", config);
        Connection c = connect(again.jdbcUrl(), DevIssuer.load(key));
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO durability_log VALUES (99, 1)");
    }
    Path gatewayConfig = Files.writeString(dir.resolve("audit.conf"), journal);
    Cli.Run verify = Cli.portcullis("audit", "verify", "--config", gatewayConfig.toString());
    assertThat(verify.exitCode()).as(verify.out() + verify.err()).isZero();
  }

  private static boolean decidedAllow(List<SessionEvent> events, long statement) {
    return events.stream()
        .anyMatch(
            e ->
                e instanceof PolicyDecided d
                    && d.statement() == statement
                    && d.decision().equals("allow"));
  }

  private static Connection connect(String url, DevIssuer issuer) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", "loader-bot");
    props.setProperty(
        "password",
        issuer.mint("loader-bot", Set.of("agents"), true, Duration.ofMinutes(5), "portcullis"));
    try {
      return DriverManager.getConnection(url, props);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot connect to the gateway at " + url, e);
    }
  }
}
