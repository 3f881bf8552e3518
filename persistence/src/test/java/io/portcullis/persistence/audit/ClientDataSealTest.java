package io.portcullis.persistence.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.persistence.audit.ClientDataSeal.SealException;
import io.portcullis.persistence.audit.ClientDataSeal.Values;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClientDataSealTest {

  private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(UTF_8);
  private static final Values VALUES =
      new Values(
          List.of(25, 23, 0),
          List.of((short) 0, (short) 1, (short) 0),
          Arrays.asList("123-45-6789".getBytes(UTF_8), new byte[] {0, 0, 0, 42}, null),
          List.of((short) 1));

  @Test
  void aSealOpensToTheExactValuesIncludingBinaryAndNull() throws SealException {
    ClientDataSeal seal = ClientDataSeal.withKey(KEY);
    String sealed = seal.seal("s-1", 7, VALUES).orElseThrow();

    Values opened = seal.open("s-1", 7, sealed);

    assertThat(opened.parameterTypes()).containsExactly(25, 23, 0);
    assertThat(opened.formats()).containsExactly((short) 0, (short) 1, (short) 0);
    assertThat(opened.resultFormats()).containsExactly((short) 1);
    assertThat(opened.values().get(0)).isEqualTo("123-45-6789".getBytes(UTF_8));
    assertThat(opened.values().get(1)).isEqualTo(new byte[] {0, 0, 0, 42});
    assertThat(opened.values().get(2)).isNull();
    assertThat(sealed).startsWith("aesgcm1." + ClientDataSeal.keyId(KEY) + ".");
    assertThat(sealed).doesNotContain("123-45-6789");
  }

  @Test
  void copyDataOpensOnlyAsTheChunkItWasSealedAs() throws SealException {
    ClientDataSeal seal = ClientDataSeal.withKey(KEY);
    byte[] rows = "1\t123-45-6789\n".getBytes(UTF_8);
    String sealed = seal.sealCopyData("s-1", 7, 2, rows).orElseThrow();

    assertThat(seal.openCopyData("s-1", 7, 2, sealed)).isEqualTo(rows);
    assertThat(sealed).doesNotContain("123-45-6789");
    assertThatThrownBy(() -> seal.openCopyData("s-1", 7, 3, sealed))
        .hasMessageContaining("made for another statement");
    assertThatThrownBy(() -> seal.open("s-1", 7, sealed)).isInstanceOf(SealException.class);
    assertThat(ClientDataSeal.none().sealCopyData("s-1", 7, 1, rows)).isEmpty();
  }

  @Test
  void aSealMovedToAnotherStatementOrSessionDoesNotOpen() {
    ClientDataSeal seal = ClientDataSeal.withKey(KEY);
    String sealed = seal.seal("s-1", 7, VALUES).orElseThrow();

    assertThatThrownBy(() -> seal.open("s-1", 8, sealed))
        .isInstanceOf(SealException.class)
        .hasMessageContaining("made for another statement");
    assertThatThrownBy(() -> seal.open("s-2", 7, sealed)).isInstanceOf(SealException.class);
  }

  @Test
  void anAlteredSealDoesNotOpen() {
    ClientDataSeal seal = ClientDataSeal.withKey(KEY);
    String sealed = seal.seal("s-1", 7, VALUES).orElseThrow();
    char last = sealed.charAt(sealed.length() - 2);
    String altered =
        sealed.substring(0, sealed.length() - 2)
            + (last == 'A' ? 'B' : 'A')
            + sealed.charAt(sealed.length() - 1);

    assertThatThrownBy(() -> seal.open("s-1", 7, altered)).isInstanceOf(SealException.class);
    assertThatThrownBy(() -> seal.open("s-1", 7, "aesgcm1." + ClientDataSeal.keyId(KEY) + ".AA"))
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> seal.open("s-1", 7, "plain text")).hasMessageContaining("not a seal");
  }

  @Test
  void anotherKeyOrNoKeyIsNamedNotGuessed() {
    String sealed = ClientDataSeal.withKey(KEY).seal("s-1", 7, VALUES).orElseThrow();
    byte[] other = KEY.clone();
    other[0] ^= 1;

    assertThatThrownBy(() -> ClientDataSeal.withKey(other).open("s-1", 7, sealed))
        .hasMessageContaining("sealed under key " + ClientDataSeal.keyId(KEY))
        .hasMessageContaining("not the configured sealing key");
    assertThatThrownBy(() -> ClientDataSeal.none().open("s-1", 7, sealed))
        .isInstanceOf(SealException.class);
  }

  @Test
  void withoutAKeyOrWithoutValuesNothingIsSealed() {
    assertThat(ClientDataSeal.none().seal("s-1", 7, VALUES)).isEmpty();
    assertThat(ClientDataSeal.withKey(KEY).seal("s-1", 7, new Values(List.of(), List.of())))
        .isEmpty();
  }

  @Test
  void twoSealsOfTheSameValuesDiffer() {
    ClientDataSeal seal = ClientDataSeal.withKey(KEY);
    assertThat(seal.seal("s-1", 7, VALUES)).isNotEqualTo(seal.seal("s-1", 7, VALUES));
  }

  @Test
  void aKeyFileMustHoldExactly32Bytes(@TempDir Path dir) throws Exception {
    Path shortKey = Files.write(dir.resolve("short.key"), new byte[16]);
    Path key = Files.write(dir.resolve("sealing.key"), KEY);

    assertThatThrownBy(() -> ClientDataSeal.fromKeyFile(shortKey))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("holds 16 bytes")
        .hasMessageContaining("openssl rand");
    String sealed = ClientDataSeal.fromKeyFile(key).seal("s", 1, VALUES).orElseThrow();
    assertThat(ClientDataSeal.withKey(KEY).open("s", 1, sealed).values()).hasSize(3);
  }
}
