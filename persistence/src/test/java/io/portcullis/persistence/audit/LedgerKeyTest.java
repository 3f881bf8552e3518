package io.portcullis.persistence.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerKeyTest {

  /** Written by {@code openssl genpkey -algorithm ed25519}; for these tests only. */
  static final String OPENSSL_KEY =
      """
      -----BEGIN PRIVATE KEY-----
      MC4CAQAwBQYDK2VwBCIEIKgjS3kTG1OJag2fwJfkHuhsfrud0ccct6GLPCxiCK55
      -----END PRIVATE KEY-----
      """;

  /** {@code openssl pkey -in key.pem -pubout} of it. */
  static final String OPENSSL_PUBLIC_KEY =
      """
      -----BEGIN PUBLIC KEY-----
      MCowBQYDK2VwAyEAWrbIfjvjIiRXM+Aq5dAekeusy5uCG2dbKkN1Ta0lXR0=
      -----END PUBLIC KEY-----
      """;

  @TempDir Path dir;

  static LedgerCheckpoint unsigned(LedgerKey key) {
    return new LedgerCheckpoint(
        SessionEvent.SCHEMA_VERSION,
        Instant.parse("2026-11-26T09:30:00Z"),
        "node-1",
        1,
        List.of(new SessionHead("s-1", 6, "ab".repeat(32), true)),
        SessionChain.GENESIS,
        key.publicKey(),
        "");
  }

  @Test
  void anOpensslKeyIsReadAndItsPublicKeyDerived() throws Exception {
    Path file = Files.writeString(dir.resolve("signing.pem"), OPENSSL_KEY);
    Path pub = Files.writeString(dir.resolve("signing.pub"), OPENSSL_PUBLIC_KEY);
    LedgerKey key = LedgerKey.load(file);
    assertThat(key.fingerprint())
        .isEqualTo(LedgerKey.fingerprint(LedgerKey.readPublicKey(pub)))
        .matches("sha256:[0-9a-f]{64}");
    assertThat(LedgerKey.verifies(key.sign(unsigned(key)))).isTrue();
  }

  @Test
  void anyChangeToASignedCheckpointBreaksItsSignature() {
    LedgerKey key = LedgerKey.generate();
    LedgerCheckpoint signed = key.sign(unsigned(key));
    assertThat(LedgerKey.verifies(signed)).isTrue();
    assertThat(Base64.getDecoder().decode(signed.signature())).hasSize(64);

    LedgerCheckpoint otherHead =
        new LedgerCheckpoint(
            signed.schema(),
            signed.at(),
            signed.node(),
            signed.number(),
            List.of(new SessionHead("s-1", 5, "ab".repeat(32), true)),
            signed.previousHash(),
            signed.publicKey(),
            signed.signature());
    assertThat(LedgerKey.verifies(otherHead)).isFalse();
    LedgerKey other = LedgerKey.generate();
    assertThat(LedgerKey.verifies(signed.signed(other.sign(unsigned(key)).signature()))).isFalse();
    LedgerCheckpoint otherKeyNamed =
        new LedgerCheckpoint(
            signed.schema(),
            signed.at(),
            signed.node(),
            signed.number(),
            signed.heads(),
            signed.previousHash(),
            other.publicKey(),
            signed.signature());
    assertThat(LedgerKey.verifies(otherKeyNamed)).isFalse();
    assertThat(LedgerKey.verifies(signed.signed("not base64!"))).isFalse();
  }

  @Test
  void whatIsNotAnEd25519KeyIsRefusedClearly() throws Exception {
    assertThatThrownBy(() -> LedgerKey.load(dir.resolve("missing.pem")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot read")
        .hasMessageContaining("missing.pem");

    Path pub = Files.writeString(dir.resolve("signing.pub"), OPENSSL_PUBLIC_KEY);
    assertThatThrownBy(() -> LedgerKey.load(pub))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no PEM block 'PRIVATE KEY'");

    byte[] rsa = KeyPairGenerator.getInstance("RSA").generateKeyPair().getPrivate().getEncoded();
    Path rsaFile =
        Files.writeString(
            dir.resolve("rsa.pem"),
            "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(rsa)
                + "\n-----END PRIVATE KEY-----\n");
    assertThatThrownBy(() -> LedgerKey.load(rsaFile))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("is not an Ed25519 private key")
        .hasMessageContaining("openssl genpkey -algorithm ed25519");

    Path key = Files.writeString(dir.resolve("signing.pem"), OPENSSL_KEY);
    assertThatThrownBy(() -> LedgerKey.readPublicKey(key))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no PEM block 'PUBLIC KEY'");
  }
}
