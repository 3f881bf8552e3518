package io.portcullis.node.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.MetricsScrape;
import io.portcullis.node.testing.TestGateway;
import java.io.DataOutputStream;
import java.net.Socket;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.apache.pekko.cluster.typed.Cluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * In a cluster of two nodes, statements never cross the cluster: the gateway's messages to other
 * nodes do not move while a session works, Pekko's own (gossip, heartbeats) do, and a gateway
 * message that does cross (a CancelRequest passed to every node) is counted as the gateway's.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterMessagesTest {

  private static GatewayNode first;
  private static GatewayNode second;

  @BeforeAll
  static void start() throws Exception {
    first = TestGateway.start();
    String seed = Cluster.get(first.system()).selfMember().address().toString();
    second = TestGateway.start("pekko.cluster.seed-nodes = [\"" + seed + "\"]");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(
            () ->
                MetricsScrape.of(first.managementPort())
                        .value("portcullis_cluster_members", "status", "up")
                    == 2);
  }

  @AfterAll
  static void stop() {
    second.close();
    first.close();
  }

  @Test
  @Order(1)
  void statementsSendNoGatewayMessagesToOtherNodes() throws Exception {
    MetricsScrape firstBefore;
    MetricsScrape secondBefore;
    MetricsScrape firstAfter;
    MetricsScrape secondAfter;
    try (Connection c = TestGateway.connect(first);
        Statement s = c.createStatement()) {
      firstBefore = MetricsScrape.of(first.managementPort());
      secondBefore = MetricsScrape.of(second.managementPort());
      for (int i = 0; i < 20; i++) {
        s.executeQuery("SELECT " + i).close();
      }
      firstAfter = MetricsScrape.of(first.managementPort());
      secondAfter = MetricsScrape.of(second.managementPort());
    }

    assertThat(firstAfter.since(firstBefore, "portcullis_statements_total", "decision", "allow"))
        .isEqualTo(20);
    assertThat(gatewaySent(firstAfter) - gatewaySent(firstBefore)).isZero();
    assertThat(gatewaySent(secondAfter) - gatewaySent(secondBefore)).isZero();
    assertThat(firstAfter.value("portcullis_cluster_messages_per_statement"))
        .as("no gateway message has crossed since the node started")
        .isZero();
    assertThat(secondAfter.value("portcullis_cluster_members", "status", "up")).isEqualTo(2);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                MetricsScrape.of(first.managementPort())
                        .since(
                            firstBefore,
                            "portcullis_cluster_messages_total",
                            "kind",
                            "pekko",
                            "direction",
                            "sent")
                    > 0);
  }

  @Test
  @Order(2)
  void aCancelRequestPassedToTheOtherNodeIsAGatewayMessage() throws Exception {
    MetricsScrape firstBefore = MetricsScrape.of(first.managementPort());
    MetricsScrape secondBefore = MetricsScrape.of(second.managementPort());
    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () -> {
              cancelRequest(first.port());
              assertThat(gatewaySent(MetricsScrape.of(first.managementPort())))
                  .isGreaterThan(gatewaySent(firstBefore));
            });
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                MetricsScrape.of(second.managementPort())
                        .since(
                            secondBefore,
                            "portcullis_cluster_messages_total",
                            "kind",
                            "gateway",
                            "direction",
                            "received")
                    > 0);
  }

  private static double gatewaySent(MetricsScrape scrape) {
    return scrape.value(
        "portcullis_cluster_messages_total", "kind", "gateway", "direction", "sent");
  }

  /** A CancelRequest for no session: the node passes it to every node all the same. */
  private static void cancelRequest(int port) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", port);
        DataOutputStream out = new DataOutputStream(socket.getOutputStream())) {
      out.writeInt(16);
      out.writeInt(80877102);
      out.writeInt(1);
      out.writeInt(2);
      out.flush();
      socket.getInputStream().read();
    }
  }
}
