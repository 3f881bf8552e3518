package io.portcullis.node.upstream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import org.junit.jupiter.api.Test;

/**
 * The exchange against a real server is covered by UpstreamAuthenticationTest; these are the
 * refusals.
 */
class ScramSha256ClientTest {

  private final ScramSha256Client client = new ScramSha256Client("pencil", new SecureRandom());

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private String clientNonce() {
    String first = new String(client.clientFirstMessage(), StandardCharsets.UTF_8);
    assertThat(first).startsWith("n,,n=,r=");
    return first.substring("n,,n=,r=".length());
  }

  @Test
  void refusesAServerNonceThatDoesNotExtendTheClients() {
    clientNonce();
    assertThatThrownBy(() -> client.clientFinalMessage(utf8("r=forged,s=QSXCR+Q6sek8bf92,i=4096")))
        .isInstanceOf(UpstreamAuthenticationException.class)
        .hasMessageContaining("nonce");
  }

  @Test
  void refusesAServerThatDoesNotKnowThePassword() {
    String nonce = clientNonce();
    byte[] last =
        client.clientFinalMessage(utf8("r=" + nonce + "server,s=QSXCR+Q6sek8bf92,i=4096"));
    assertThat(new String(last, StandardCharsets.UTF_8))
        .startsWith("c=biws,r=" + nonce + "server,p=");
    assertThatThrownBy(
            () -> client.verifyServerFinal(utf8("v=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")))
        .isInstanceOf(UpstreamAuthenticationException.class)
        .hasMessageContaining("signature");
  }

  @Test
  void reportsAServerError() {
    String nonce = clientNonce();
    client.clientFinalMessage(utf8("r=" + nonce + "x,s=QSXCR+Q6sek8bf92,i=4096"));
    assertThatThrownBy(() -> client.verifyServerFinal(utf8("e=invalid-proof")))
        .hasMessageContaining("invalid-proof");
  }

  @Test
  void refusesAServerFirstMessageWithoutSalt() {
    String nonce = clientNonce();
    assertThatThrownBy(() -> client.clientFinalMessage(utf8("r=" + nonce + "x,i=4096")))
        .isInstanceOf(UpstreamAuthenticationException.class);
  }
}
