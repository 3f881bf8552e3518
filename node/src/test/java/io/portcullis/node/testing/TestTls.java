package io.portcullis.node.testing;

import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** The test-only CA and server certificate in src/test/resources/tls. */
public final class TestTls {

  private TestTls() {}

  public static Path file(String name) {
    try {
      return Path.of(TestTls.class.getResource("/tls/" + name).toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** HOCON that turns on TLS for the gateway's client listener. */
  public static String listenerConfig() {
    return "portcullis.listener.tls { certificate-file = \"%s\", private-key-file = \"%s\" }"
        .formatted(file("server.pem"), file("server.key"));
  }

  /** A client context that trusts only the test CA. */
  public static SSLContext clientContext() throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream ca = TestTls.class.getResourceAsStream("/tls/ca.pem")) {
      trust.setCertificateEntry(
          "ca", CertificateFactory.getInstance("X.509").generateCertificate(ca));
    }
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return context;
  }
}
