package io.portcullis.node.masking;

/**
 * Results the gateway cannot mask: the session ends with this message rather than let a value pass
 * unmasked.
 */
public final class MaskingException extends RuntimeException {

  public MaskingException(String message) {
    super(message);
  }
}
