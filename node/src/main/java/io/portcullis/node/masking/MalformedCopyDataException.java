package io.portcullis.node.masking;

/**
 * CopyData that does not hold what the format of its COPY says it must: a truncated row or field,
 * an unterminated quote, a missing binary header or data after the trailer. The stream cannot be
 * rewritten safely, so the caller ends it.
 */
public final class MalformedCopyDataException extends RuntimeException {

  public MalformedCopyDataException(String message) {
    super(message);
  }
}
