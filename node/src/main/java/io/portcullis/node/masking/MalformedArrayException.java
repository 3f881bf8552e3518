package io.portcullis.node.masking;

/**
 * A value that is not an array in PostgreSQL's binary format: truncated, with bytes left over, or
 * with a header {@code array_recv} would refuse. The value cannot be rewritten safely, so the
 * caller fails closed.
 */
public final class MalformedArrayException extends RuntimeException {

  public MalformedArrayException(String message) {
    super(message);
  }
}
