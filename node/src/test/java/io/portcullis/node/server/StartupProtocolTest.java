package io.portcullis.node.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.RawClient;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.BackendMessage.NegotiateProtocolVersion;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.FrontendMessage.Startup;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The startup phase, and hostile input at any phase, over raw sockets. */
class StartupProtocolTest {

  private static final int V3_0 = 3 << 16;
  private static GatewayNode gateway;

  /** A gateway that asks for a password (dev password list: alice / pw). */
  private static GatewayNode passwordGateway;

  @BeforeAll
  static void start() throws Exception {
    gateway = TestGateway.start();
    passwordGateway =
        TestGateway.start(
            "portcullis.client-authentication { mode = password-list, passwords { alice = pw } }");
  }

  @AfterAll
  static void stop() {
    gateway.close();
    passwordGateway.close();
  }

  /** A client of the password gateway that has been asked for its password. */
  private static RawClient askedForPassword() throws Exception {
    RawClient client = new RawClient(passwordGateway.port());
    client.send(startup(V3_0));
    client.readUntil(BackendMessage.AuthenticationCleartextPassword.class::isInstance);
    return client;
  }

  private static ErrorResponse lastError(List<BackendMessage> received) {
    assertThat(received).last().isInstanceOf(ErrorResponse.class);
    return (ErrorResponse) received.get(received.size() - 1);
  }

  private static Startup startup(int version, String... keyValues) {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("user", "alice");
    params.put("database", "main");
    for (int i = 0; i < keyValues.length; i += 2) {
      params.put(keyValues[i], keyValues[i + 1]);
    }
    return new Startup(version, params);
  }

  private static byte[] bytes(FrontendMessage... messages) {
    ByteBuf buf = Unpooled.buffer();
    for (FrontendMessage message : messages) {
      message.writeTo(buf);
    }
    byte[] bytes = new byte[buf.readableBytes()];
    buf.readBytes(bytes);
    buf.release();
    return bytes;
  }

  private static ErrorResponse fatalFor(FrontendMessage... messages) throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.sendBytes(bytes(messages));
      ErrorResponse error = lastError(client.readToEnd());
      assertThat(error.severity()).isEqualTo("FATAL");
      return error;
    }
  }

  private static boolean ready(List<BackendMessage> messages) {
    return messages.stream().anyMatch(ReadyForQuery.class::isInstance);
  }

  @Test
  void startupWithoutTlsReachesReadyForQueryAndRunsAQuery() throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send(startup(V3_0));
      List<BackendMessage> login = client.readUntil(ReadyForQuery.class::isInstance);
      assertThat(login).first().isEqualTo(BackendMessage.AuthenticationOk.INSTANCE);
      assertThat(login).anyMatch(BackendMessage.BackendKeyData.class::isInstance);
      assertThat(login).contains(new BackendMessage.ParameterStatus("client_encoding", "UTF8"));
      client.send(new Query("SELECT 41 + 1"));
      List<BackendMessage> result = client.readUntil(ReadyForQuery.class::isInstance);
      assertThat(result)
          .anySatisfy(
              m ->
                  assertThat(m)
                      .isEqualTo(new BackendMessage.DataRow(new byte[][] {"42".getBytes()})));
      client.send(FrontendMessage.Terminate.INSTANCE);
      assertThat(client.closedByServer(Duration.ofSeconds(5))).isTrue();
    }
  }

  @Test
  void sslRequestIsRefusedWithoutACertificateAndBytesBehindItAreDiscarded() throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      // A man in the middle appends a startup packet behind the SSLRequest (CVE-2021-23214).
      client.sendBytes(
          bytes(
              FrontendMessage.SslRequest.INSTANCE, startup(V3_0, "application_name", "injected")));
      assertThat(client.readByte()).isEqualTo('N');
      Thread.sleep(1000);
      assertThat(client.socket().getInputStream().available()).isZero();
      client.send(startup(V3_0));
      assertThat(ready(client.readUntil(ReadyForQuery.class::isInstance))).isTrue();
      client.send(new Query("SHOW application_name"));
      assertThat(client.readUntil(ReadyForQuery.class::isInstance))
          .noneMatch(m -> m.toString().contains("injected"));
    }
  }

  @Test
  void gssEncryptionIsDeclined() throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send(FrontendMessage.GssEncRequest.INSTANCE);
      assertThat(client.readByte()).isEqualTo('N');
      client.send(startup(V3_0));
      assertThat(ready(client.readUntil(ReadyForQuery.class::isInstance))).isTrue();
    }
  }

  @Test
  void newerMinorVersionAndProtocolOptionsAreNegotiatedDown() throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send(startup(V3_0 | 2, "_pq_.compression", "on"));
      List<BackendMessage> login = client.readUntil(ReadyForQuery.class::isInstance);
      assertThat(login.get(0))
          .isEqualTo(new NegotiateProtocolVersion(0, List.of("_pq_.compression")));
      assertThat(ready(login)).isTrue();
    }
  }

  @Test
  void replicationConnectionsAreRefused() throws Exception {
    ErrorResponse error = fatalFor(startup(V3_0, "replication", "database"));
    assertThat(error.sqlState()).isEqualTo("0A000");
    assertThat(error.message()).contains("replication");
  }

  @Test
  void searchPathSmuggledInOptionsIsRefused() throws Exception {
    ErrorResponse error =
        fatalFor(startup(V3_0, "options", "-c statement_timeout=5s -c search_path=evil"));
    assertThat(error.sqlState()).isEqualTo("42501");
    assertThat(error.message()).contains("search_path").contains("allowed-options");
  }

  @Test
  void allowedOptionsReachTheUpstream() throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send(startup(V3_0, "options", "-c statement_timeout=1234 --lock-timeout=99"));
      client.readUntil(ReadyForQuery.class::isInstance);
      client.send(
          new Query(
              "SELECT current_setting('statement_timeout'), current_setting('lock_timeout')"));
      assertThat(client.readUntil(ReadyForQuery.class::isInstance))
          .contains(
              new BackendMessage.DataRow(new byte[][] {"1234ms".getBytes(), "99ms".getBytes()}));
    }
  }

  @Test
  void unknownStartupParameterIsRefused() throws Exception {
    ErrorResponse error = fatalFor(startup(V3_0, "search_path", "evil"));
    assertThat(error.sqlState()).isEqualTo("42501");
    assertThat(error.message()).contains("search_path");
  }

  @Test
  void unknownTargetIsRefusedWithoutNamingTheKnownOnes() throws Exception {
    ErrorResponse error = fatalFor(new Startup(V3_0, Map.of("user", "alice", "database", "prod")));
    assertThat(error.sqlState()).isEqualTo("3D000");
    assertThat(error.message()).contains("\"prod\"").doesNotContain("main");
  }

  @Test
  void nonUtf8ClientEncodingIsRefused() throws Exception {
    ErrorResponse error = fatalFor(startup(V3_0, "client_encoding", "LATIN1"));
    assertThat(error.sqlState()).isEqualTo("22023");
  }

  @Test
  void unsupportedProtocolMajorVersionIsRefused() throws Exception {
    assertThat(fatalFor(startup(2 << 16)).sqlState()).isEqualTo("08P01");
  }

  @Test
  void oversizedStartupPacketIsRefused() throws Exception {
    assertThat(fatalFor(startup(V3_0, "application_name", "x".repeat(20_000))).sqlState())
        .isEqualTo("08P01");
  }

  @Test
  void negativeMessageLengthEndsTheConnection() throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send(startup(V3_0)).readUntil(ReadyForQuery.class::isInstance);
      client.sendBytes(ByteBuffer.allocate(5).put((byte) 'Q').putInt(-5).array());
      assertThat(lastError(client.readToEnd()).sqlState()).isEqualTo("08P01");
    }
  }

  @Test
  void oversizedMessageIsRefusedBeforeItsBodyArrives() throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.send(startup(V3_0)).readUntil(ReadyForQuery.class::isInstance);
      // Announce 2 GB and send nothing more: the gateway must answer at once, not wait or allocate.
      client.sendBytes(ByteBuffer.allocate(5).put((byte) 'Q').putInt(Integer.MAX_VALUE).array());
      ErrorResponse error = lastError(client.readToEnd());
      assertThat(error.sqlState()).isEqualTo("08P01");
    }
  }

  @Test
  void oversizedPasswordBeforeAuthenticationIsRefused() throws Exception {
    // Before authentication the limit is max-authentication-message-bytes (64 KiB): a client
    // that has not logged in cannot make the gateway buffer a large message.
    try (RawClient client = askedForPassword()) {
      client.sendBytes(ByteBuffer.allocate(5).put((byte) 'p').putInt(1_000_000).array());
      assertThat(lastError(client.readToEnd()).sqlState()).isEqualTo("28P01");
    }
  }

  @Test
  void unknownMessageTypeEndsOnlyThatConnection() throws Exception {
    try (Connection bystander = TestGateway.connect(gateway);
        RawClient client = new RawClient(gateway.port())) {
      client.send(startup(V3_0)).readUntil(ReadyForQuery.class::isInstance);
      client.sendBytes(ByteBuffer.allocate(5).put((byte) 'z').putInt(4).array());
      assertThat(lastError(client.readToEnd()).sqlState()).isEqualTo("08P01");
      try (ResultSet rs = bystander.createStatement().executeQuery("SELECT 'still here'")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("still here");
      }
    }
  }

  @Test
  void garbageBeforeStartupEndsTheConnection() throws Exception {
    try (RawClient client = new RawClient(gateway.port())) {
      client.sendBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes());
      assertThat(lastError(client.readToEnd()).sqlState()).isEqualTo("08P01");
    }
  }

  @Test
  void passwordListAuthenticationRejectsAWrongPassword() throws Exception {
    try (RawClient client = askedForPassword()) {
      client.send(FrontendMessage.AuthenticationResponse.password("wrong"));
      assertThat(lastError(client.readToEnd()).sqlState()).isEqualTo("28P01");
    }
    try (RawClient client = askedForPassword()) {
      client.send(FrontendMessage.AuthenticationResponse.password("pw"));
      assertThat(ready(client.readUntil(ReadyForQuery.class::isInstance))).isTrue();
    }
  }

  @Test
  void malformedPasswordMessageIsAProtocolViolation() throws Exception {
    try (RawClient client = askedForPassword()) {
      // A password message whose string has no terminating NUL.
      client.sendBytes(
          ByteBuffer.allocate(7).put((byte) 'p').putInt(6).put((byte) 'p').put((byte) 'w').array());
      assertThat(lastError(client.readToEnd()).sqlState()).isEqualTo("08P01");
    }
  }

  @Test
  void forgedCancelKeyIsIgnored() throws Exception {
    try (RawClient victim = new RawClient(gateway.port())) {
      List<BackendMessage> login =
          victim.send(startup(V3_0)).readUntil(ReadyForQuery.class::isInstance);
      BackendMessage.BackendKeyData key =
          login.stream()
              .filter(BackendMessage.BackendKeyData.class::isInstance)
              .map(BackendMessage.BackendKeyData.class::cast)
              .findFirst()
              .orElseThrow();
      victim.send(new Query("SELECT pg_sleep(1.5), 'finished'"));
      try (RawClient attacker = new RawClient(gateway.port())) {
        attacker.send(new FrontendMessage.CancelRequest(key.processId(), key.secretKey() + 1));
        assertThat(attacker.closedByServer(Duration.ofSeconds(5))).isTrue();
      }
      List<BackendMessage> result = victim.readUntil(ReadyForQuery.class::isInstance);
      assertThat(result).noneMatch(ErrorResponse.class::isInstance);
      assertThat(result.toString()).contains("CommandComplete");
    }
  }
}
