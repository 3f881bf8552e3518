package io.portcullis.node.upstream;

/** The upstream refused, or could not complete, the gateway's own login. */
public final class UpstreamAuthenticationException extends RuntimeException {
  public UpstreamAuthenticationException(String message) {
    super(message);
  }
}
