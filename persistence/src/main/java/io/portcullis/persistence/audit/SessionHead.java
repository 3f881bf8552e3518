package io.portcullis.persistence.audit;

/**
 * How far a session's journal had got: the sequence number and hash of its last event.
 *
 * @param closed whether that event is the session's {@code SessionClosed}
 */
public record SessionHead(String session, long sequenceNumber, String hash, boolean closed) {}
