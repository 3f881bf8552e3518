package io.portcullis.node.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.RawClient;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.FrontendMessage.Bind;
import io.portcullis.protocol.FrontendMessage.Describe;
import io.portcullis.protocol.FrontendMessage.Execute;
import io.portcullis.protocol.FrontendMessage.Parse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Extended-protocol details that drivers rely on, checked message by message. */
class ExtendedProtocolTest {

  private static GatewayNode gateway;

  @BeforeAll
  static void start() throws Exception {
    gateway = TestGateway.start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  private static RawClient login() throws Exception {
    RawClient client = new RawClient(gateway.port());
    client
        .send(new FrontendMessage.Startup(3 << 16, Map.of("user", "alice", "database", "main")))
        .readUntil(ReadyForQuery.class::isInstance);
    return client;
  }

  private static Bind bind(String portal, String statement, String... values) {
    byte[][] parameters = new byte[values.length][];
    for (int i = 0; i < values.length; i++) {
      parameters[i] = values[i].getBytes(StandardCharsets.UTF_8);
    }
    return new Bind(portal, statement, new short[0], parameters, new short[0]);
  }

  @Test
  void flushDeliversResponsesBeforeSync() throws Exception {
    try (RawClient client = login()) {
      client.send(
          new Parse("s1", "SELECT $1::int + 1", new int[0]), FrontendMessage.Flush.INSTANCE);
      assertThat(client.readUntil(BackendMessage.ParseComplete.class::isInstance))
          .containsExactly(BackendMessage.ParseComplete.INSTANCE);
      client.send(bind("", "s1", "41"), new Execute("", 0), FrontendMessage.Sync.INSTANCE);
      assertThat(client.readUntil(ReadyForQuery.class::isInstance))
          .contains(new BackendMessage.DataRow(new byte[][] {"42".getBytes()}));
    }
  }

  @Test
  void anErrorSkipsEverythingUntilSync() throws Exception {
    try (RawClient client = login()) {
      client.send(
          new Parse("", "SELEKT 1", new int[0]),
          bind("", ""),
          new Execute("", 0),
          FrontendMessage.Sync.INSTANCE,
          new Parse("", "SELECT 'recovered'", new int[0]),
          bind("", ""),
          new Execute("", 0),
          FrontendMessage.Sync.INSTANCE);
      List<BackendMessage> first = client.readUntil(ReadyForQuery.class::isInstance);
      assertThat(first).hasSize(2);
      assertThat(((ErrorResponse) first.get(0)).sqlState()).isEqualTo("42601");
      List<BackendMessage> second = client.readUntil(ReadyForQuery.class::isInstance);
      assertThat(second)
          .contains(new BackendMessage.DataRow(new byte[][] {"recovered".getBytes()}));
    }
  }

  @Test
  void portalsAreFetchedInPiecesWithPortalSuspended() throws Exception {
    try (RawClient client = login()) {
      client.send(new FrontendMessage.Query("BEGIN"));
      client.readUntil(ReadyForQuery.class::isInstance);
      client.send(
          new Parse("", "SELECT g FROM generate_series(1, 5) g", new int[0]),
          bind("p", ""),
          new Describe('P', "p"),
          new Execute("p", 2),
          new Execute("p", 2),
          new Execute("p", 2),
          FrontendMessage.Sync.INSTANCE);
      List<BackendMessage> replies = client.readUntil(ReadyForQuery.class::isInstance);
      assertThat(replies.stream().filter(BackendMessage.PortalSuspended.class::isInstance))
          .hasSize(2);
      assertThat(replies.stream().filter(BackendMessage.DataRow.class::isInstance)).hasSize(5);
      assertThat(replies).contains(new BackendMessage.CommandComplete("SELECT 1"));
    }
  }

  @Test
  void parameterStatusAndNoticesArePassedOn() throws Exception {
    try (RawClient client = login()) {
      client.send(new FrontendMessage.Query("SET application_name = 'renamed'"));
      assertThat(client.readUntil(ReadyForQuery.class::isInstance))
          .contains(new BackendMessage.ParameterStatus("application_name", "renamed"));
      client.send(new FrontendMessage.Query("DO $$ BEGIN RAISE NOTICE 'careful'; END $$"));
      assertThat(client.readUntil(ReadyForQuery.class::isInstance))
          .anySatisfy(
              message -> {
                assertThat(message).isInstanceOf(BackendMessage.NoticeResponse.class);
                assertThat(((BackendMessage.NoticeResponse) message).message())
                    .isEqualTo("careful");
              });
    }
  }
}
