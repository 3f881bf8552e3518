package io.portcullis.persistence.audit;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals what a client sent, exactly as it sent it — a statement's parameter values, and the data of
 * a {@code COPY ... FROM STDIN} — with AES-256-GCM, so that the journal can hold it for an
 * authorised replay without showing it to anyone who reads the journal. The session id and
 * statement number are the associated data: a sealed value moved to another statement does not
 * open.
 *
 * <p>A seal reads {@code aesgcm1.<key id>.<base64url(nonce, ciphertext and tag)>}; the key id is
 * the first 16 hex digits of the key's SHA-256, so a replay can tell which key it needs.
 */
public final class ClientDataSeal {

  /**
   * Parameter values and their format codes (0 text, 1 binary), as Bind or FunctionCall carry; the
   * parameter type OIDs the statement's Parse declared (0 or absent: PostgreSQL infers the type),
   * which decide how the server reads each value; and the result format codes the client asked for,
   * which decide the bytes of every value returned.
   */
  public record Values(
      List<Integer> parameterTypes,
      List<Short> formats,
      List<byte[]> values,
      List<Short> resultFormats) {
    public Values {
      parameterTypes = List.copyOf(parameterTypes);
      formats = List.copyOf(formats);
      // values may hold null (SQL NULL), which List.copyOf refuses
      values = Collections.unmodifiableList(new ArrayList<>(values));
      resultFormats = List.copyOf(resultFormats);
    }

    public Values(List<Short> formats, List<byte[]> values) {
      this(List.of(), formats, values, List.of());
    }
  }

  /**
   * The plaintext, as JSON: the formats, each value in base64 (null for SQL NULL), the result
   * formats and the parameter types (each absent from seals made before it was kept).
   */
  private record Plain(
      List<Short> formats,
      List<String> values,
      List<Short> resultFormats,
      List<Integer> parameterTypes) {}

  private static final String PREFIX = "aesgcm1";
  private static final int NONCE_BYTES = 12;
  private static final int TAG_BITS = 128;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final ObjectMapper JSON = new ObjectMapper();

  private final Optional<SecretKeySpec> key;
  private final String keyId;

  private ClientDataSeal(Optional<byte[]> key) {
    this.key = key.map(bytes -> new SecretKeySpec(bytes, "AES"));
    this.keyId = key.map(ClientDataSeal::keyId).orElse("");
  }

  /** Seals under a 32-byte key. */
  public static ClientDataSeal withKey(byte[] key) {
    if (key.length != 32) {
      throw new IllegalArgumentException(
          "the parameter sealing key must be 32 bytes (AES-256), not " + key.length);
    }
    return new ClientDataSeal(Optional.of(key.clone()));
  }

  /** Reads the key from a file of exactly 32 random bytes ({@code openssl rand -out F 32}). */
  public static ClientDataSeal fromKeyFile(Path file) throws IOException {
    byte[] key = Files.readAllBytes(file);
    if (key.length != 32) {
      throw new IllegalArgumentException(
          "the parameter sealing key file "
              + file
              + " holds "
              + key.length
              + " bytes; it needs exactly 32 random bytes (openssl rand -out "
              + file.getFileName()
              + " 32)");
    }
    return withKey(key);
  }

  /** No key: nothing is sealed, and the journal keeps only the masked values. */
  public static ClientDataSeal none() {
    return new ClientDataSeal(Optional.empty());
  }

  public static String keyId(byte[] key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(key);
      return HexFormat.of().formatHex(digest, 0, 8);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-256 is not available", e);
    }
  }

  /** The seal of a statement's values; empty without a key, or without values and formats. */
  public Optional<String> seal(String session, long statement, Values values) {
    if (key.isEmpty() || (values.values().isEmpty() && values.resultFormats().isEmpty())) {
      return Optional.empty();
    }
    List<String> encoded = new ArrayList<>(values.values().size());
    for (byte[] value : values.values()) {
      encoded.add(value == null ? null : Base64.getEncoder().encodeToString(value));
    }
    try {
      byte[] plain =
          JSON.writeValueAsBytes(
              new Plain(
                  values.formats(), encoded, values.resultFormats(), values.parameterTypes()));
      return Optional.of(seal(plain, statementData(session, statement)));
    } catch (IOException e) {
      throw new IllegalStateException("cannot seal parameter values", e);
    }
  }

  /**
   * Opens a seal made for this session and statement.
   *
   * @throws SealException when this key did not make it, or it was altered or moved
   */
  public Values open(String session, long statement, String seal) throws SealException {
    byte[] plain = open(seal, statementData(session, statement));
    try {
      Plain decoded = JSON.readValue(plain, Plain.class);
      List<byte[]> values = new ArrayList<>(decoded.values().size());
      for (String value : decoded.values()) {
        values.add(value == null ? null : Base64.getDecoder().decode(value));
      }
      return new Values(
          decoded.parameterTypes() == null ? List.of() : decoded.parameterTypes(),
          decoded.formats(),
          values,
          decoded.resultFormats() == null ? List.of() : decoded.resultFormats());
    } catch (IllegalArgumentException | IOException e) {
      throw new SealException("the seal is malformed");
    }
  }

  /**
   * The seal of one chunk of the data a client sent for a statement's {@code COPY ... FROM STDIN};
   * empty without a key. The chunk's number is associated data too: chunks do not open out of
   * order.
   */
  public Optional<String> sealCopyData(String session, long statement, int chunk, byte[] data) {
    return key.isEmpty()
        ? Optional.empty()
        : Optional.of(seal(data, copyData(session, statement, chunk)));
  }

  /**
   * Opens a chunk of COPY data sealed for this session, statement and chunk number.
   *
   * @throws SealException when this key did not make it, or it was altered or moved
   */
  public byte[] openCopyData(String session, long statement, int chunk, String seal)
      throws SealException {
    return open(seal, copyData(session, statement, chunk));
  }

  private static String statementData(String session, long statement) {
    return session + "/" + statement;
  }

  private static String copyData(String session, long statement, int chunk) {
    return session + "/" + statement + "/copy/" + chunk;
  }

  private String seal(byte[] plain, String associated) {
    try {
      byte[] nonce = new byte[NONCE_BYTES];
      RANDOM.nextBytes(nonce);
      byte[] sealed = cipher(Cipher.ENCRYPT_MODE, nonce, associated).doFinal(plain);
      byte[] blob =
          ByteBuffer.allocate(nonce.length + sealed.length).put(nonce).put(sealed).array();
      return PREFIX
          + "."
          + keyId
          + "."
          + Base64.getUrlEncoder().withoutPadding().encodeToString(blob);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot seal what the client sent", e);
    }
  }

  private byte[] open(String seal, String associated) throws SealException {
    String[] parts = seal.split("\\.", 3);
    if (parts.length != 3 || !parts[0].equals(PREFIX)) {
      throw new SealException("not a seal");
    }
    if (key.isEmpty() || !parts[1].equals(keyId)) {
      throw new SealException(
          "sealed under key " + parts[1] + ", which is not the configured sealing key");
    }
    byte[] blob;
    try {
      blob = Base64.getUrlDecoder().decode(parts[2]);
    } catch (IllegalArgumentException e) {
      throw new SealException("the seal is malformed");
    }
    if (blob.length <= NONCE_BYTES) {
      throw new SealException("the seal is truncated");
    }
    try {
      return cipher(Cipher.DECRYPT_MODE, Arrays.copyOf(blob, NONCE_BYTES), associated)
          .doFinal(blob, NONCE_BYTES, blob.length - NONCE_BYTES);
    } catch (GeneralSecurityException e) {
      throw new SealException(
          "the seal does not open: it was altered, or made for another statement");
    }
  }

  private Cipher cipher(int mode, byte[] nonce, String associated) throws GeneralSecurityException {
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
    cipher.init(mode, key.orElseThrow(), new GCMParameterSpec(TAG_BITS, nonce));
    cipher.updateAAD(associated.getBytes(StandardCharsets.UTF_8));
    return cipher;
  }

  /** A seal that cannot be opened with the configured key. */
  public static final class SealException extends Exception {
    public SealException(String message) {
      super(message);
    }
  }
}
