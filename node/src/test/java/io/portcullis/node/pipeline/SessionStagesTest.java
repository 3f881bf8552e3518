package io.portcullis.node.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.FrontendMessage;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The four stages sit on the live path of every session: what a stage does to a message is what the
 * upstream or the client receives. Later capabilities (identity, policy, approval, masking) replace
 * these stand-ins.
 */
class SessionStagesTest {

  private static final List<String> seenByPolicy = new CopyOnWriteArrayList<>();
  private static GatewayNode gateway;

  @BeforeAll
  static void start() throws Exception {
    SessionStages stages =
        new SessionStages(
            Flow.<FrontendMessage>create().named("auth"),
            BidiFlow.fromFlows(
                Flow.<FrontendMessage>create()
                    .map(
                        message -> {
                          if (message instanceof FrontendMessage.Query query) {
                            seenByPolicy.add(query.sql());
                          }
                          return message;
                        }),
                Flow.<BackendMessage>create()),
            Flow.<FrontendMessage>create()
                .map(
                    message ->
                        message instanceof FrontendMessage.Query query
                                && query.sql().contains("'rewrite me'")
                            ? new FrontendMessage.Query("SELECT 'rewritten'")
                            : message),
            BidiFlow.fromFlows(
                Flow.<FrontendMessage>create(),
                Flow.<BackendMessage>create()
                    .map(
                        message -> {
                          if (message instanceof BackendMessage.DataRow row) {
                            byte[][] upper = new byte[row.values().length][];
                            for (int i = 0; i < upper.length; i++) {
                              upper[i] =
                                  row.values()[i] == null
                                      ? null
                                      : new String(row.values()[i], StandardCharsets.UTF_8)
                                          .toUpperCase(Locale.ROOT)
                                          .getBytes(StandardCharsets.UTF_8);
                            }
                            return new BackendMessage.DataRow(upper);
                          }
                          return message;
                        })));
    gateway =
        GatewayNode.start(TestGateway.config(""), (policy, recorder, masking, metrics) -> stages);
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  @Test
  void stagesSeeAndChangeLiveTraffic() throws Exception {
    try (Connection c = TestGateway.connect(gateway, "alice", "preferQueryMode=simple")) {
      try (ResultSet rs = c.createStatement().executeQuery("SELECT 'masked by the stage'")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("MASKED BY THE STAGE");
      }
      try (ResultSet rs = c.createStatement().executeQuery("SELECT 'rewrite me'")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("REWRITTEN");
      }
    }
    assertThat(seenByPolicy).contains("SELECT 'masked by the stage'", "SELECT 'rewrite me'");
  }
}
