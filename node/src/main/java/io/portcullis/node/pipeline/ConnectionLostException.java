package io.portcullis.node.pipeline;

/** The peer of a channel closed it while the session was still using it. */
public final class ConnectionLostException extends RuntimeException {
  public ConnectionLostException(String message) {
    super(message, null, false, false);
  }
}
