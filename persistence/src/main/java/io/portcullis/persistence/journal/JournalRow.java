package io.portcullis.persistence.journal;

import java.util.Optional;
import java.util.Set;

/**
 * One row of {@code event_journal} in the Pekko Persistence JDBC 1.1 layout: the event itself
 * serialized (not its PersistentRepr), with the tags that go to {@code event_tag}.
 *
 * @param adapterManifest the event adapter's manifest, empty without one
 * @param timestamp when it was written, in milliseconds since the epoch
 */
public record JournalRow(
    String persistenceId,
    long sequenceNr,
    boolean deleted,
    String writer,
    long timestamp,
    String adapterManifest,
    Payload event,
    Optional<Payload> metadata,
    Set<String> tags) {

  public JournalRow {
    tags = Set.copyOf(tags);
  }

  /** A value as the actor system's serialization wrote it. */
  public record Payload(int serializerId, String manifest, byte[] bytes) {}
}
