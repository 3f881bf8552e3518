package io.portcullis.policy.identity;

import java.net.InetSocketAddress;
import java.util.Optional;

/**
 * What a client offered when it connected.
 *
 * @param user the {@code user} of the StartupMessage
 * @param password the password message, if the authenticator asked for one
 * @param clientAddress the client's TCP address
 * @param tls whether the connection is encrypted
 */
public record LoginAttempt(
    String user, Optional<String> password, InetSocketAddress clientAddress, boolean tls) {}
