package io.portcullis.node.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestTls;
import io.portcullis.protocol.FrontendMessage;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Clients reach the gateway over TLS with its certificate; nothing sent before TLS counts. */
class ClientTlsTest {

  private static GatewayNode gateway;

  @BeforeAll
  static void start() throws Exception {
    gateway = TestGateway.start(TestTls.listenerConfig());
  }

  @AfterAll
  static void stop() {
    gateway.close();
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

  /**
   * Sends an SSLRequest followed by {@code early} in the same packet and completes the handshake.
   */
  private static SSLSocket negotiateTls(Socket plain, byte[] early) throws Exception {
    byte[] request = bytes(FrontendMessage.SslRequest.INSTANCE);
    byte[] packet = new byte[request.length + early.length];
    System.arraycopy(request, 0, packet, 0, request.length);
    System.arraycopy(early, 0, packet, request.length, early.length);
    plain.getOutputStream().write(packet);
    plain.getOutputStream().flush();
    assertThat(plain.getInputStream().read()).isEqualTo('S');
    SSLSocket tls =
        (SSLSocket)
            TestTls.clientContext()
                .getSocketFactory()
                .createSocket(plain, "localhost", gateway.port(), true);
    tls.startHandshake();
    return tls;
  }

  private static String readSome(SSLSocket tls) throws IOException {
    byte[] buffer = new byte[4096];
    int n = tls.getInputStream().read(buffer);
    return new String(buffer, 0, Math.max(n, 0), StandardCharsets.ISO_8859_1);
  }

  @Test
  void pgjdbcConnectsWithVerifyFull() throws Exception {
    String url =
        "jdbc:postgresql://localhost:"
            + gateway.port()
            + "/main?sslmode=verify-full&sslrootcert="
            + TestTls.file("ca.pem");
    try (Connection c = DriverManager.getConnection(url, "alice", "");
        ResultSet rs = c.createStatement().executeQuery("SELECT 'over tls'")) {
      rs.next();
      assertThat(rs.getString(1)).isEqualTo("over tls");
    }
  }

  @Test
  void bytesSentBehindTheSslRequestAreDiscarded() throws Exception {
    try (Socket plain = new Socket("127.0.0.1", gateway.port())) {
      // Injected by a man in the middle before the handshake: had the gateway kept these bytes,
      // the TLS handshake below would fail on them.
      SSLSocket tls = negotiateTls(plain, bytes(new FrontendMessage.Query("DROP TABLE accounts")));
      tls.getOutputStream()
          .write(
              bytes(
                  new FrontendMessage.Startup(3 << 16, Map.of("user", "alice", "database", "main")),
                  new FrontendMessage.Query("SELECT 'encrypted'")));
      tls.getOutputStream().flush();
      StringBuilder received = new StringBuilder();
      while (!received.toString().contains("encrypted")) {
        received.append(readSome(tls));
      }
      assertThat(received.toString()).doesNotContain("accounts");
    }
  }

  @Test
  void aSecondSslRequestInsideTlsIsDeclined() throws Exception {
    try (Socket plain = new Socket("127.0.0.1", gateway.port())) {
      SSLSocket tls = negotiateTls(plain, new byte[0]);
      tls.getOutputStream().write(bytes(FrontendMessage.SslRequest.INSTANCE));
      tls.getOutputStream().flush();
      assertThat(tls.getInputStream().read()).isEqualTo('N');
    }
  }
}
