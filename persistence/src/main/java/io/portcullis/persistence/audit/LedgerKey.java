package io.portcullis.persistence.audit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Ed25519 key a node signs its ledger checkpoints with, and the checks of a checkpoint's
 * signature. A key is named by its fingerprint: {@code sha256:} and the hex SHA-256 of its public
 * key's DER encoding, as {@code openssl pkey -pubin -in key.pub -outform DER | sha256sum} prints.
 */
public final class LedgerKey {

  private static final String ALGORITHM = "Ed25519";
  private static final Pattern PEM =
      Pattern.compile("-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

  private final PrivateKey privateKey;
  private final String publicKey;

  private LedgerKey(KeyPair pair) {
    this.privateKey = pair.getPrivate();
    this.publicKey = Base64.getEncoder().encodeToString(pair.getPublic().getEncoded());
  }

  /** A new random key, lost when the node stops. */
  public static LedgerKey generate() {
    try {
      return new LedgerKey(KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot make Ed25519 keys", e);
    }
  }

  /**
   * Reads a PKCS#8 PEM Ed25519 private key, as {@code openssl genpkey -algorithm ed25519} writes.
   *
   * @throws IllegalArgumentException when the file cannot be read or holds no such key
   */
  public static LedgerKey load(Path file) {
    EdECPrivateKey key;
    try {
      key =
          (EdECPrivateKey)
              KeyFactory.getInstance(ALGORITHM)
                  .generatePrivate(new PKCS8EncodedKeySpec(pem(file, "PRIVATE KEY")));
    } catch (GeneralSecurityException | ClassCastException e) {
      throw new IllegalArgumentException(
          file
              + " is not an Ed25519 private key; make one with openssl genpkey -algorithm ed25519"
              + " -out "
              + file.getFileName());
    }
    byte[] seed = key.getBytes().orElseThrow();
    try {
      // The JDK has no call that derives an Ed25519 public key from its private key, but its
      // generator derives the pair from the random bytes it draws: hand it the private key.
      KeyPairGenerator generator = KeyPairGenerator.getInstance(ALGORITHM);
      generator.initialize(
          NamedParameterSpec.ED25519,
          new SecureRandom() {
            @Override
            public void nextBytes(byte[] bytes) {
              System.arraycopy(seed, 0, bytes, 0, bytes.length);
            }
          });
      return new LedgerKey(new KeyPair(generator.generateKeyPair().getPublic(), key));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JDK cannot make Ed25519 keys", e);
    }
  }

  /**
   * Reads a PEM Ed25519 public key ({@code openssl pkey -in signing.pem -pubout}).
   *
   * @throws IllegalArgumentException when the file cannot be read or holds no such key
   */
  public static PublicKey readPublicKey(Path file) {
    try {
      return KeyFactory.getInstance(ALGORITHM)
          .generatePublic(new X509EncodedKeySpec(pem(file, "PUBLIC KEY")));
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(
          file
              + " is not an Ed25519 public key; write one with openssl pkey -in signing.pem"
              + " -pubout -out "
              + file.getFileName());
    }
  }

  private static byte[] pem(Path file, String label) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read " + file + ": " + e);
    }
    Matcher block = PEM.matcher(text);
    if (!block.find() || !block.group(1).equals(label)) {
      throw new IllegalArgumentException(
          file + " holds no PEM block '" + label + "' (an unencrypted Ed25519 key in PEM)");
    }
    return Base64.getMimeDecoder().decode(block.group(2));
  }

  /** The public key as checkpoints carry it. */
  public String publicKey() {
    return publicKey;
  }

  public String fingerprint() {
    return fingerprint(publicKey);
  }

  /** The checkpoint with this key's signature. */
  LedgerCheckpoint sign(LedgerCheckpoint checkpoint) {
    try {
      Signature signer = Signature.getInstance(ALGORITHM);
      signer.initSign(privateKey);
      signer.update(checkpoint.signedBytes());
      return checkpoint.signed(Base64.getEncoder().encodeToString(signer.sign()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign a ledger checkpoint", e);
    }
  }

  /** Whether the checkpoint's signature verifies under the public key it names. */
  public static boolean verifies(LedgerCheckpoint checkpoint) {
    try {
      PublicKey key =
          KeyFactory.getInstance(ALGORITHM)
              .generatePublic(
                  new X509EncodedKeySpec(Base64.getDecoder().decode(checkpoint.publicKey())));
      Signature verifier = Signature.getInstance(ALGORITHM);
      verifier.initVerify(key);
      verifier.update(checkpoint.signedBytes());
      return verifier.verify(Base64.getDecoder().decode(checkpoint.signature()));
    } catch (GeneralSecurityException | IllegalArgumentException e) {
      return false;
    }
  }

  /** The fingerprint of a public key in the form checkpoints carry it. */
  public static String fingerprint(String publicKey) {
    try {
      return fingerprint(Base64.getDecoder().decode(publicKey));
    } catch (IllegalArgumentException e) {
      return "(not a key: " + publicKey + ")";
    }
  }

  public static String fingerprint(PublicKey key) {
    return fingerprint(key.getEncoded());
  }

  private static String fingerprint(byte[] encoded) {
    try {
      return "sha256:"
          + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(encoded));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
