package io.portcullis.policy.rules;

import io.portcullis.policy.identity.Identity;
import java.net.InetAddress;
import java.time.Instant;

/**
 * Where a statement comes from: rules match on this as well as on the statement.
 *
 * @param identity who sent it
 * @param target the gateway target (database) it is for
 * @param clientAddress the client's IP address
 * @param applicationName the session's {@code application_name}, empty if none
 * @param at when it arrived
 */
public record StatementContext(
    Identity identity,
    String target,
    InetAddress clientAddress,
    String applicationName,
    Instant at) {}
