package io.portcullis.node.upstream;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677) as PostgreSQL uses it: no channel binding
 * and an empty user name in the client-first message (PostgreSQL takes the user from the startup
 * packet). One instance per authentication exchange.
 */
final class ScramSha256Client {

  static final String MECHANISM = "SCRAM-SHA-256";
  private static final String GS2_HEADER = "n,,";

  private final String password;
  private final String clientNonce;
  private String clientFirstBare;
  private byte[] expectedServerSignature;

  ScramSha256Client(String password, SecureRandom random) {
    this.password = password;
    byte[] nonce = new byte[18];
    random.nextBytes(nonce);
    this.clientNonce = Base64.getEncoder().encodeToString(nonce);
  }

  byte[] clientFirstMessage() {
    clientFirstBare = "n=,r=" + clientNonce;
    return (GS2_HEADER + clientFirstBare).getBytes(StandardCharsets.UTF_8);
  }

  byte[] clientFinalMessage(byte[] serverFirstMessage) {
    String serverFirst = new String(serverFirstMessage, StandardCharsets.UTF_8);
    Map<Character, String> attributes = attributes(serverFirst);
    String nonce = required(attributes, 'r');
    if (!nonce.startsWith(clientNonce)) {
      throw new UpstreamAuthenticationException("SCRAM server nonce does not extend the client's");
    }
    byte[] salt = Base64.getDecoder().decode(required(attributes, 's'));
    int iterations = Integer.parseInt(required(attributes, 'i'));
    byte[] saltedPassword = pbkdf2(salt, iterations);
    byte[] clientKey = hmac(saltedPassword, "Client Key");
    byte[] storedKey = sha256(clientKey);
    String withoutProof =
        "c="
            + Base64.getEncoder().encodeToString(GS2_HEADER.getBytes(StandardCharsets.UTF_8))
            + ",r="
            + nonce;
    String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
    byte[] clientSignature = hmac(storedKey, authMessage);
    byte[] proof = new byte[clientKey.length];
    for (int i = 0; i < proof.length; i++) {
      proof[i] = (byte) (clientKey[i] ^ clientSignature[i]);
    }
    expectedServerSignature = hmac(hmac(saltedPassword, "Server Key"), authMessage);
    return (withoutProof + ",p=" + Base64.getEncoder().encodeToString(proof))
        .getBytes(StandardCharsets.UTF_8);
  }

  /** Proves the server knew the password too, so the gateway is not talking to an impostor. */
  void verifyServerFinal(byte[] serverFinalMessage) {
    Map<Character, String> attributes =
        attributes(new String(serverFinalMessage, StandardCharsets.UTF_8));
    if (attributes.containsKey('e')) {
      throw new UpstreamAuthenticationException("SCRAM server error: " + attributes.get('e'));
    }
    byte[] signature = Base64.getDecoder().decode(required(attributes, 'v'));
    if (expectedServerSignature == null
        || !MessageDigest.isEqual(signature, expectedServerSignature)) {
      throw new UpstreamAuthenticationException("SCRAM server signature does not match");
    }
  }

  private static Map<Character, String> attributes(String message) {
    Map<Character, String> attributes = new HashMap<>();
    for (String part : message.split(",")) {
      if (part.length() >= 2 && part.charAt(1) == '=') {
        attributes.put(part.charAt(0), part.substring(2));
      }
    }
    return attributes;
  }

  private static String required(Map<Character, String> attributes, char name) {
    String value = attributes.get(name);
    if (value == null) {
      throw new UpstreamAuthenticationException("SCRAM message lacks attribute " + name);
    }
    return value;
  }

  private byte[] pbkdf2(byte[] salt, int iterations) {
    try {
      PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, 256);
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 unavailable", e);
    }
  }

  private static byte[] hmac(byte[] key, String data) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }
}
