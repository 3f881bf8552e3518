package io.portcullis.node.audit;

import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.CopyDataReceived;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Turns the data a client sends for a {@code COPY ... FROM STDIN} into journal events: chunks of at
 * most {@link #CHUNK_BYTES} (more only by the message that fills one), each sealed for replay, and
 * the copy's last chunk when the client ends it. The policy stage journals a chunk before it sends
 * on the message that completed it, and the end before the client's CopyDone: PostgreSQL commits
 * the copied rows only at CopyDone, so no row is kept that the journal does not hold.
 */
public final class CopyDataRecorder {

  /** A chunk's size: a few per megabyte copied, each one journal write. */
  public static final int CHUNK_BYTES = 256 * 1024;

  private final String session;
  private final ClientDataSeal seal;
  private final ByteArrayOutputStream pending = new ByteArrayOutputStream();
  private long statement;
  private int chunks;
  private boolean abandoned;

  public CopyDataRecorder(String session, ClientDataSeal seal) {
    this.session = session;
    this.seal = seal;
  }

  /**
   * The client sent COPY data for {@code statement} (the last one sent upstream); the chunks to
   * journal before it goes on: none until one is full.
   */
  public List<SessionEvent> data(long statement, byte[] data) {
    List<SessionEvent> events = new ArrayList<>(1);
    startIfNew(statement, events);
    if (abandoned) {
      return events;
    }
    pending.writeBytes(data);
    if (pending.size() >= CHUNK_BYTES) {
      events.add(chunk(Optional.empty()));
    }
    return events;
  }

  /**
   * The client ended its copy ({@link CopyDataReceived#DONE} or {@link CopyDataReceived#FAILED}):
   * the copy's last chunk, to journal before the end goes on; none for a copy abandoned.
   */
  public List<SessionEvent> end(long statement, String end) {
    List<SessionEvent> events = new ArrayList<>(1);
    startIfNew(statement, events);
    if (!abandoned) {
      events.add(chunk(Optional.of(end)));
    }
    abandoned = false;
    return events;
  }

  /**
   * A chunk could not be journaled, so the copy was made to fail upstream: what the client still
   * sends for it is not journaled, up to its end.
   */
  public void abandon() {
    abandoned = true;
    pending.reset();
  }

  /** Data for a statement after another's copy that never ended goes into chunks of its own. */
  private void startIfNew(long statement, List<SessionEvent> events) {
    if (statement == this.statement) {
      return;
    }
    if (pending.size() > 0) {
      events.add(chunk(Optional.empty()));
    }
    this.statement = statement;
    chunks = 0;
    abandoned = false;
  }

  private CopyDataReceived chunk(Optional<String> end) {
    byte[] data = pending.toByteArray();
    pending.reset();
    int chunk = ++chunks;
    return new CopyDataReceived(
        SessionEvent.SCHEMA_VERSION,
        Instant.now(),
        statement,
        chunk,
        data.length,
        seal.sealCopyData(session, statement, chunk, data),
        end,
        null);
  }
}
