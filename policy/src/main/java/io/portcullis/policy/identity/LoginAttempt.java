package io.portcullis.policy.identity;

import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.util.Optional;

/**
 * What a client offered when it connected.
 *
 * @param user the {@code user} of the StartupMessage
 * @param password the password message, if the authenticator asked for one
 * @param clientAddress the client's TCP address
 * @param tls whether the connection is encrypted
 * @param clientCertificate the certificate the client presented in the TLS handshake, already
 *     verified against the listener's client CA
 */
public record LoginAttempt(
    String user,
    Optional<String> password,
    InetSocketAddress clientAddress,
    boolean tls,
    Optional<X509Certificate> clientCertificate) {

  /** An attempt without a client certificate. */
  public LoginAttempt(
      String user, Optional<String> password, InetSocketAddress clientAddress, boolean tls) {
    this(user, password, clientAddress, tls, Optional.empty());
  }
}
