package io.portcullis.node.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.AdminClient;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.policy.identity.DevIssuer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A pending approval lives in the journal, not in the node: after the gateway restarts it is still
 * listed, can be approved, and the agent's identical statement then runs.
 */
class ApprovalRestartTest {

  private static final String SQL = "SELECT secret FROM restart_pii WHERE id = 1";

  @TempDir Path dir;

  @Test
  void pendingApprovalSurvivesARestartAndStillCompletes() throws Exception {
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS restart_pii");
      s.execute("CREATE TABLE restart_pii (id int, secret text)");
      s.execute("INSERT INTO restart_pii VALUES (1, 'kept')");
    }
    Path policy = dir.resolve("policy.yaml");
    Files.writeString(
        policy,
        """
        default: allow
        rules:
          - id: pii-wait
            when: { agent: true, tables: [restart_pii] }
            decision: review
            reason: PII needs approval
            approval: { mode: wait, timeout: 5m, approvers: [security-analysts] }
        """);
    Path key = dir.resolve("dev.jwk");
    String config =
        TestGateway.policyWithDevTokens(policy, key)
            + "portcullis.journal.url = \"jdbc:h2:file:"
            + dir.resolve("journal")
            + "\"\n";

    String id;
    try (GatewayNode first = TestGateway.start(config)) {
      DevIssuer issuer = DevIssuer.load(key);
      String carol =
          issuer.mint(
              "carol", Set.of("security-analysts"), false, Duration.ofMinutes(10), "portcullis");
      Connection bot = agent(first, issuer);
      CompletableFuture<Void> held =
          CompletableFuture.runAsync(
              () -> {
                try (Statement statement = bot.createStatement()) {
                  statement.executeQuery(SQL);
                } catch (SQLException e) {
                  // The gateway goes down under it.
                }
              });
      id = pendingId(new AdminClient(first), carol);
      bot.close();
      held.cancel(true);
    }

    try (GatewayNode second = TestGateway.start(config)) {
      DevIssuer issuer = DevIssuer.load(key);
      String carol =
          issuer.mint(
              "carol", Set.of("security-analysts"), false, Duration.ofMinutes(10), "portcullis");
      AdminClient admin = new AdminClient(second);
      assertThat(pendingId(admin, carol)).isEqualTo(id);
      assertThat(admin.post("/api/v1/approvals/" + id + "/approve", carol, "{}").status())
          .isEqualTo(200);
      try (Connection bot = agent(second, issuer);
          Statement statement = bot.createStatement();
          ResultSet rs = statement.executeQuery(SQL)) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("kept");
      }
      assertThat(admin.get("/api/v1/approvals/" + id, carol).body().path("status").asText())
          .isEqualTo("executed");
    }
  }

  private static Connection agent(GatewayNode node, DevIssuer issuer) throws Exception {
    Properties props = new Properties();
    props.setProperty("user", "payments-bot");
    props.setProperty(
        "password",
        issuer.mint("payments-bot", Set.of("agents"), true, Duration.ofMinutes(10), "portcullis"));
    return DriverManager.getConnection(TestGateway.jdbcUrl(node, ""), props);
  }

  private static String pendingId(AdminClient admin, String token) {
    JsonNode approval =
        await()
            .atMost(Duration.ofSeconds(15))
            .until(
                () -> admin.get("/api/v1/approvals", token).body().path("approvals").path(0),
                node -> node.path("statement").asText().equals(SQL));
    return approval.path("id").asText();
  }
}
