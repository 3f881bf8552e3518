package io.portcullis.protocol;

/**
 * Malformed or unsupported protocol input. The decoders fire it through {@code exceptionCaught} as
 * is (not wrapped in a {@code DecoderException}) and then discard all further input; the handler is
 * expected to answer with an ErrorResponse carrying {@link #sqlState()} and close.
 */
public final class ProtocolException extends RuntimeException {

  /** SQLSTATE protocol_violation. */
  public static final String PROTOCOL_VIOLATION = "08P01";

  private final String sqlState;

  public ProtocolException(String message) {
    this(PROTOCOL_VIOLATION, message);
  }

  public ProtocolException(String sqlState, String message) {
    super(message);
    this.sqlState = sqlState;
  }

  public String sqlState() {
    return sqlState;
  }
}
