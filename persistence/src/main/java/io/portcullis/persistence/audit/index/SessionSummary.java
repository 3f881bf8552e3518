package io.portcullis.persistence.audit.index;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * A session as the index holds it; its full timeline is in the journal.
 *
 * @param statements how many statements it sent
 */
public record SessionSummary(
    String session,
    String subject,
    String issuer,
    List<String> groups,
    boolean agent,
    String clientAddress,
    int clientPort,
    String applicationName,
    String target,
    String upstreamRole,
    String node,
    Instant openedAt,
    Optional<Instant> closedAt,
    Optional<String> closeReason,
    long statements) {

  public SessionSummary {
    groups = List.copyOf(groups);
  }

  /** Sessions found, and whether the limit left more out. */
  public record Page(List<SessionSummary> sessions, boolean more) {
    public Page {
      sessions = List.copyOf(sessions);
    }
  }
}
