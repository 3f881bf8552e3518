package io.portcullis.node.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.portcullis.node.testing.AdminClient;
import io.portcullis.node.testing.Cli;
import io.portcullis.node.testing.GatewayProcess;
import io.portcullis.node.testing.JournalContents;
import io.portcullis.node.testing.RawClient;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.policy.identity.DevIssuer;
import io.portcullis.policy.rules.PolicyParser;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.FrontendMessage;
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
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.IntStream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three gateway nodes, each a JVM started from the shaded jar, sharing a PostgreSQL journal, with
 * HAProxy in front when it is installed (else the clients pick nodes in turn): sessions spread over
 * the nodes and every node's audit sees them all; approvals, cancels and policy changes cross
 * nodes; killing a node disturbs no other node's clients, loses nothing acknowledged, and leaves
 * its pending approvals to the survivors; a new node joins and takes traffic; a node restarted
 * gracefully leaves and rejoins. The tests run in order on one cluster: the later ones kill, add
 * and restart nodes.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterIT {

  private static final String JOURNAL_DB = "portcullis_cluster_it";
  private static final String POLICY =
      """
      default: deny
      rules:
        - id: work
          when: { kinds: [select, insert, transaction, set, show] }
          decision: allow
        - id: closing-accounts
          when: { kinds: [delete], tables: [cluster_accounts] }
          decision: review
          reason: closing an account needs an approver
          approval: { mode: wait, timeout: 180s, approvers: [approvers] }
      """;
  private static final String NO_SECRETS =
      """
        - id: no-secrets
          when: { tables: [cluster_secrets] }
          decision: deny
          reason: secrets are closed
      """;
  private static final Pattern INSERT = Pattern.compile("VALUES \\((\\d+), (\\d+), (\\d+)\\)");

  @TempDir static Path dir;

  private static DevIssuer issuer;
  private static Path journalConfig;
  private static final GatewayProcess.Ports[] PORTS = new GatewayProcess.Ports[4];
  private static final GatewayProcess[] NODES = new GatewayProcess[4];
  private static Process haproxy;
  private static int balancerPort;

  @BeforeAll
  static void startCluster() throws Exception {
    TestPostgres.recreateDatabase(JOURNAL_DB);
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute(
          """
          DROP TABLE IF EXISTS cluster_accounts, cluster_secrets, cluster_load;
          CREATE TABLE cluster_accounts (id int PRIMARY KEY, owner text);
          INSERT INTO cluster_accounts SELECT g, 'owner ' || g FROM generate_series(1, 100) g;
          CREATE TABLE cluster_secrets (id int, secret text);
          INSERT INTO cluster_secrets VALUES (1, 'swordfish');
          CREATE TABLE cluster_load (node int, client int, n int, PRIMARY KEY (node, client, n));
          """);
    }
    Path key = dir.resolve("dev.jwk");
    issuer = DevIssuer.load(key);
    TestPostgres.Server pg = TestPostgres.server();
    String journal =
        """
        portcullis.journal { url = "%s", user = "%s", password = "%s" }
        """
            .formatted(pg.jdbcUrl(JOURNAL_DB), pg.user(), pg.password());
    journalConfig = Files.writeString(dir.resolve("journal.conf"), journal);
    for (int i = 0; i < PORTS.length; i++) {
      PORTS[i] = GatewayProcess.Ports.free();
      Files.writeString(policyFile(i), POLICY);
    }
    NODES[0] = startNode(0);
    CompletableFuture<GatewayProcess> second = CompletableFuture.supplyAsync(() -> startNode(1));
    NODES[2] = startNode(2);
    NODES[1] = second.join();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> upMembers(NODES[2]) == 3 && upMembers(NODES[0]) == 3);
    startBalancer();
  }

  @AfterAll
  static void stopCluster() {
    if (haproxy != null) {
      haproxy.destroyForcibly();
    }
    for (GatewayProcess node : NODES) {
      if (node != null) {
        node.close();
      }
    }
  }

  private static Path policyFile(int node) {
    return dir.resolve("policy-" + (node + 1) + ".yaml");
  }

  private static GatewayProcess startNode(int i) {
    String config =
        TestGateway.hocon(
            TestGateway.policyWithDevTokens(policyFile(i), dir.resolve("dev.jwk"))
                + """
                portcullis.journal { url = "%s", user = "%s", password = "%s" }
                portcullis.policy.reload-interval = 500ms
                pekko.cluster.seed-nodes = ["%s", "%s"]
                """
                    .formatted(
                        TestPostgres.server().jdbcUrl(JOURNAL_DB),
                        TestPostgres.server().user(),
                        TestPostgres.server().password(),
                        PORTS[0].clusterAddress(),
                        PORTS[1].clusterAddress()));
    try {
      return GatewayProcess.start(dir, "node" + (i + 1), config, PORTS[i], Map.of());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private static int upMembers(GatewayProcess node) throws Exception {
    JsonNode members = node.managementJson("/cluster/members");
    if (members == null) {
      return 0;
    }
    return (int)
        StreamSupport.stream(members.path("members").spliterator(), false)
            .filter(member -> member.path("status").asText().equals("Up"))
            .count();
  }

  /** HAProxy in TCP mode, checking each node's /ready, as deploy/haproxy/haproxy.cfg does. */
  private static void startBalancer() throws Exception {
    if (!Files.isExecutable(Path.of("/usr/sbin/haproxy"))) {
      return;
    }
    balancerPort = GatewayProcess.freePort();
    StringBuilder servers = new StringBuilder();
    for (int i = 0; i < PORTS.length; i++) {
      servers.append(
          "  server node%d 127.0.0.1:%d check port %d%n"
              .formatted(i + 1, PORTS[i].listener(), PORTS[i].management()));
    }
    Path config =
        Files.writeString(
            dir.resolve("haproxy.cfg"),
            """
            defaults
              mode tcp
              timeout connect 2s
              timeout client 1h
              timeout server 1h
              retries 3
              option redispatch
            frontend postgres
              bind 127.0.0.1:%d
              default_backend gateways
            backend gateways
              balance roundrobin
              option httpchk
              http-check send meth GET uri /ready ver HTTP/1.1 hdr Host portcullis
              http-check expect status 200
              default-server inter 500ms fall 2 rise 1
            %s
            """
                .formatted(balancerPort, servers));
    haproxy =
        new ProcessBuilder("/usr/sbin/haproxy", "-db", "-f", config.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("haproxy.log").toFile())
            .start();
    await()
        .atMost(Duration.ofSeconds(10))
        .ignoreExceptions()
        .until(
            () -> {
              try (Connection c = throughBalancer("probe", Set.of("agents"), 0)) {
                return c.isValid(2);
              }
            });
  }

  private static String token(String user, Set<String> groups) {
    return issuer.mint(user, groups, true, Duration.ofMinutes(30), "portcullis");
  }

  private static Connection direct(int node, String user, Set<String> groups) throws SQLException {
    return DriverManager.getConnection(NODES[node].jdbcUrl(), user, token(user, groups));
  }

  /**
   * Through HAProxy; without it, to the {@code turn}-th live node in turn, as a client-side list of
   * hosts would.
   */
  private static Connection throughBalancer(String user, Set<String> groups, int turn)
      throws SQLException {
    if (haproxy != null) {
      return DriverManager.getConnection(
          "jdbc:postgresql://127.0.0.1:" + balancerPort + "/main", user, token(user, groups));
    }
    List<GatewayProcess> live =
        java.util.Arrays.stream(NODES).filter(n -> n != null && n.isAlive()).toList();
    return DriverManager.getConnection(
        live.get(turn % live.size()).jdbcUrl(), user, token(user, groups));
  }

  private static AdminClient admin(int node) {
    return new AdminClient(NODES[node].adminUrl());
  }

  /** The sessions of {@code user} that node's audit index knows. */
  private static JsonNode sessionsOf(int node, String user) throws Exception {
    return admin(node)
        .get("/api/v1/audit/sessions?limit=1000&user=" + user, token("audrey", Set.of("auditor")))
        .body()
        .path("sessions");
  }

  @Test
  @Order(1)
  void thirtyClientsThroughTheBalancerSpreadOverTheNodesAndEveryNodeAuditsThemAll()
      throws Exception {
    int clients = 30;
    CountDownLatch allConnected = new CountDownLatch(clients);
    List<CompletableFuture<Integer>> results = new ArrayList<>();
    for (int client = 0; client < clients; client++) {
      int id = client;
      results.add(
          CompletableFuture.supplyAsync(
              () -> {
                try (Connection c = throughBalancer("fleet", Set.of("agents"), id);
                    Statement s = c.createStatement()) {
                  s.execute("INSERT INTO cluster_load VALUES (0, " + id + ", 0)");
                  allConnected.countDown();
                  allConnected.await(30, TimeUnit.SECONDS);
                  try (ResultSet rs = s.executeQuery("SELECT count(*) FROM cluster_accounts")) {
                    rs.next();
                    return rs.getInt(1);
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              java.util.concurrent.Executors.newSingleThreadExecutor()));
    }
    for (CompletableFuture<Integer> result : results) {
      assertThat(result.get(60, TimeUnit.SECONDS)).isEqualTo(100);
    }
    for (int node = 0; node < 3; node++) {
      int asked = node;
      JsonNode sessions =
          await()
              .atMost(Duration.ofSeconds(20))
              .until(() -> sessionsOf(asked, "fleet"), found -> found.size() == clients);
      Set<String> servedBy = new HashSet<>();
      sessions.forEach(session -> servedBy.add(session.path("node").asText()));
      assertThat(servedBy)
          .as("nodes that served the 30 clients, as node %d's audit shows", asked + 1)
          .hasSize(3);
    }
  }

  @Test
  @Order(2)
  void anApprovalMadeOnNode3ReleasesAStatementHeldOnNode1() throws Exception {
    String delete = "DELETE FROM cluster_accounts WHERE id = 1";
    CompletableFuture<Integer> held = heldOn(0, delete);
    JsonNode approval = pendingOn(2, delete);
    assertThat(held).isNotDone();

    AdminClient.Reply approved =
        admin(2)
            .post(
                "/api/v1/approvals/" + approval.path("id").asText() + "/approve",
                token("sam", Set.of("approvers")),
                "{\"reason\": \"ticket 17\"}");

    assertThat(approved.status()).isEqualTo(200);
    assertThat(held.get(15, TimeUnit.SECONDS)).isEqualTo(1);
  }

  /** Runs {@code sql} on that node as an agent in a thread of its own: it will be held. */
  private static CompletableFuture<Integer> heldOn(int node, String sql) {
    return CompletableFuture.supplyAsync(
        () -> {
          try (Connection c = direct(node, "closer-bot", Set.of("agents"));
              Statement s = c.createStatement()) {
            return s.executeUpdate(sql);
          } catch (SQLException e) {
            throw new IllegalStateException(e);
          }
        },
        java.util.concurrent.Executors.newSingleThreadExecutor());
  }

  private static JsonNode pendingOn(int node, String sql) {
    String approver = token("sam", Set.of("approvers"));
    return await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () -> {
              for (JsonNode approval :
                  admin(node)
                      .get("/api/v1/approvals?status=pending", approver)
                      .body()
                      .path("approvals")) {
                if (approval.path("statement").asText().equals(sql)) {
                  return approval;
                }
              }
              return null;
            },
            approval -> approval != null);
  }

  @Test
  @Order(3)
  void aCancelRequestSentToNode2CancelsTheQueryRunningOnNode1() throws Exception {
    try (RawClient client = new RawClient(PORTS[0].listener())) {
      client.send(
          new FrontendMessage.Startup(3 << 16, Map.of("user", "sleeper", "database", "main")));
      client.readUntil(BackendMessage.AuthenticationCleartextPassword.class::isInstance);
      List<BackendMessage> login =
          client
              .send(
                  FrontendMessage.AuthenticationResponse.password(
                      token("sleeper", Set.of("agents"))))
              .readUntil(BackendMessage.ReadyForQuery.class::isInstance);
      BackendMessage.BackendKeyData key =
          login.stream()
              .filter(BackendMessage.BackendKeyData.class::isInstance)
              .map(BackendMessage.BackendKeyData.class::cast)
              .findFirst()
              .orElseThrow();
      client.send(new FrontendMessage.Query("SELECT pg_sleep(60)"));
      Thread.sleep(500);
      long sent = System.nanoTime();
      try (RawClient canceller = new RawClient(PORTS[1].listener())) {
        canceller.send(new FrontendMessage.CancelRequest(key.processId(), key.secretKey()));
      }
      List<BackendMessage> result =
          client.readUntil(BackendMessage.ReadyForQuery.class::isInstance);
      assertThat(Duration.ofNanos(System.nanoTime() - sent)).isLessThan(Duration.ofSeconds(10));
      assertThat(result)
          .filteredOn(BackendMessage.ErrorResponse.class::isInstance)
          .map(error -> ((BackendMessage.ErrorResponse) error).sqlState())
          .containsExactly("57014");
    }
  }

  @Test
  @Order(4)
  void aPolicyChangeOnNode1IsEnforcedOnNode3WithinSeconds() throws Exception {
    try (Connection c = direct(2, "reader", Set.of("agents"));
        Statement s = c.createStatement()) {
      s.executeQuery("SELECT secret FROM cluster_secrets").close();
    }
    Files.writeString(policyFile(0), POLICY + NO_SECRETS);
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(200))
        .until(
            () -> {
              try (Connection c = direct(2, "reader", Set.of("agents"));
                  Statement s = c.createStatement()) {
                s.executeQuery("SELECT secret FROM cluster_secrets").close();
                return false;
              } catch (SQLException denied) {
                return denied.getSQLState().equals("42501")
                    && denied.getMessage().contains("secrets are closed");
              }
            });
    String changed = PolicyParser.parse("changed", POLICY + NO_SECRETS).version();
    try (Connection j = TestPostgres.direct(JOURNAL_DB)) {
      assertThat(
              JournalContents.sessions(j).stream()
                  .flatMap(List::stream)
                  .map(ChainCheck.Stored::event)
                  .filter(SessionEvent.PolicyDecided.class::isInstance)
                  .map(SessionEvent.PolicyDecided.class::cast)
                  .filter(decided -> decided.decision().equals("deny"))
                  .map(SessionEvent.PolicyDecided::policyVersion))
          .as("node 3 journals its refusals under the version that came from node 1")
          .contains(changed);
    }
  }

  @Test
  @Order(5)
  void killingNode2UnderLoadDisturbsNoOtherNodeLosesNothingAndLeavesItsApprovalsToTheOthers()
      throws Exception {
    List<String> deletes =
        IntStream.rangeClosed(10, 13)
            .mapToObj(id -> "DELETE FROM cluster_accounts WHERE id = " + id)
            .toList();
    List<CompletableFuture<Integer>> held = new ArrayList<>();
    for (int i = 0; i < deletes.size(); i++) {
      held.add(heldOn(i % 2 == 0 ? 0 : 2, deletes.get(i)));
    }
    List<String> approvalIds = new ArrayList<>();
    for (String delete : deletes) {
      approvalIds.add(pendingOn(0, delete).path("id").asText());
    }

    Set<String> acknowledged = ConcurrentHashMap.newKeySet();
    Map<Integer, List<String>> errors = new ConcurrentHashMap<>();
    List<Long> reconnectMillis = new java.util.concurrent.CopyOnWriteArrayList<>();
    AtomicBoolean running = new AtomicBoolean(true);
    List<Thread> clients = new ArrayList<>();
    for (int node = 0; node < 3; node++) {
      for (int client = 0; client < 2; client++) {
        Thread thread =
            new Thread(
                new LoadClient(node, client, acknowledged, errors, reconnectMillis, running));
        thread.start();
        clients.add(thread);
      }
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> acknowledged.size() > 100);
    NODES[1].kill();
    Thread.sleep(10_000);
    running.set(false);
    for (Thread thread : clients) {
      thread.join(30_000);
    }

    assertThat(errors.getOrDefault(0, List.of())).as("errors seen by node 1's clients").isEmpty();
    assertThat(errors.getOrDefault(2, List.of())).as("errors seen by node 3's clients").isEmpty();
    assertThat(reconnectMillis)
        .as("node 2's clients, each reconnected through the balancer and ran again (ms)")
        .hasSize(2)
        .allMatch(millis -> millis < 5_000);

    String approver = token("sam", Set.of("approvers"));
    for (String id : approvalIds) {
      await()
          .atMost(Duration.ofSeconds(60))
          .pollInterval(Duration.ofSeconds(1))
          .untilAsserted(
              () -> {
                AdminClient.Reply reply =
                    admin(0).post("/api/v1/approvals/" + id + "/approve", approver, "{}");
                // 409 "executed": an earlier attempt reached the entity but its answer did not
                // come back in time, while the entity was moving to a surviving node.
                assertThat(reply.status() == 200 || reply.body().toString().contains("is executed"))
                    .as(id + ": " + reply.body())
                    .isTrue();
              });
    }
    for (CompletableFuture<Integer> statement : held) {
      assertThat(statement.get(30, TimeUnit.SECONDS)).isEqualTo(1);
    }

    assertThat(journaledInserts()).containsAll(upstreamRows()).containsAll(acknowledged);
    Cli.Run verify = Cli.portcullis("audit", "verify", "--config", journalConfig.toString());
    assertThat(verify.exitCode()).as(verify.out() + verify.err()).isZero();
  }

  /**
   * Inserts rows without pause on one node; when its node dies, it reconnects through the balancer
   * and records how long it took to run a statement again.
   */
  private record LoadClient(
      int node,
      int client,
      Set<String> acknowledged,
      Map<Integer, List<String>> errors,
      List<Long> reconnectMillis,
      AtomicBoolean running)
      implements Runnable {

    @Override
    public void run() {
      int n = 0;
      Connection c = null;
      try {
        c = direct(node, "loader", Set.of("agents"));
        while (running.get()) {
          try {
            c.createStatement()
                .execute(
                    "INSERT INTO cluster_load VALUES (%d, %d, %d)".formatted(node + 1, client, n));
            acknowledged.add((node + 1) + "/" + client + "/" + n);
            n++;
          } catch (SQLException lost) {
            errors
                .computeIfAbsent(node, k -> new java.util.concurrent.CopyOnWriteArrayList<>())
                .add(lost.toString());
            if (node != 1) {
              return;
            }
            long since = System.nanoTime();
            c = reconnect();
            reconnectMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since));
            n = 1_000_000;
          }
        }
      } catch (Exception e) {
        errors
            .computeIfAbsent(node, k -> new java.util.concurrent.CopyOnWriteArrayList<>())
            .add(e.toString());
      } finally {
        try {
          if (c != null) {
            c.close();
          }
        } catch (SQLException ignored) {
          // the node is gone
        }
      }
    }

    /** Connects again until a statement runs, as a pool with validation would. */
    private Connection reconnect() throws InterruptedException, SQLException {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        try {
          Connection again = throughBalancer("loader", Set.of("agents"), client);
          again.createStatement().execute("SELECT 1");
          return again;
        } catch (SQLException notYet) {
          if (System.nanoTime() > deadline) {
            throw notYet;
          }
          Thread.sleep(100);
        }
      }
    }
  }

  private static Set<String> upstreamRows() throws SQLException {
    Set<String> rows = new HashSet<>();
    try (Connection c = TestPostgres.direct();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT node || '/' || client || '/' || n FROM cluster_load WHERE node > 0")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  private static Set<String> journaledInserts() throws Exception {
    Set<String> inserts = new HashSet<>();
    try (Connection j = TestPostgres.direct(JOURNAL_DB)) {
      for (List<ChainCheck.Stored<SessionEvent>> session : JournalContents.sessions(j)) {
        for (ChainCheck.Stored<SessionEvent> stored : session) {
          if (stored.event() instanceof SessionEvent.StatementReceived received) {
            Matcher row = INSERT.matcher(received.sql());
            if (row.find()) {
              inserts.add(row.group(1) + "/" + row.group(2) + "/" + row.group(3));
            }
          }
        }
      }
    }
    return inserts;
  }

  @Test
  @Order(6)
  void aNewNodeJoinsAndTakesTraffic() throws Exception {
    NODES[3] = startNode(3);
    await().atMost(Duration.ofSeconds(30)).until(() -> NODES[3].management("/ready") == 200);
    AtomicInteger turn = new AtomicInteger();
    // HAProxy sees the node ready at its next check; until then new sessions go elsewhere.
    await()
        .atMost(Duration.ofSeconds(15))
        .until(
            () -> {
              try (Connection c =
                  throughBalancer("newcomer", Set.of("agents"), turn.getAndIncrement())) {
                c.createStatement().execute("SELECT 1");
              }
              return NODES[3].log().contains("opened for newcomer");
            });
  }

  @Test
  @Order(7)
  void aRollingRestartOfANodeKeepsTheClusterAndItsClients() throws Exception {
    try (Connection c = direct(0, "steady", Set.of("agents"));
        Statement s = c.createStatement()) {
      NODES[2].terminate();
      assertThat(NODES[2].awaitExit(Duration.ofSeconds(30))).as(NODES[2].log()).isTrue();
      assertThat(NODES[2].log()).contains("shutting down");
      s.execute("SELECT 1");
      await().atMost(Duration.ofSeconds(20)).until(() -> upMembers(NODES[0]) == 2);

      NODES[2] = startNode(2);
      await().atMost(Duration.ofSeconds(30)).until(() -> NODES[2].management("/ready") == 200);
      await().atMost(Duration.ofSeconds(20)).until(() -> upMembers(NODES[0]) == 3);
      s.execute("SELECT 1");
      try (Connection again = direct(2, "steady", Set.of("agents"))) {
        assertThat(again.createStatement().execute("SELECT 1")).isTrue();
      }
    }
  }
}
