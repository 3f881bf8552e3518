package io.portcullis.persistence.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.persistence.audit.ParameterSeal.SealException;
import io.portcullis.persistence.audit.ParameterSeal.Values;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ParameterSealTest {

  private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(UTF_8);
  private static final Values VALUES =
      new Values(
          List.of(25, 23, 0),
          List.of((short) 0, (short) 1, (short) 0),
          Arrays.asList("123-45-6789".getBytes(UTF_8), new byte[] {0, 0, 0, 42}, null),
          List.of((short) 1));

  @Test
  void aSealOpensToTheExactValuesIncludingBinaryAndNull() throws SealException {
    ParameterSeal seal = ParameterSeal.withKey(KEY);
    String sealed = seal.seal("s-1", 7, VALUES).orElseThrow();

    Values opened = seal.open("s-1", 7, sealed);

    assertThat(opened.parameterTypes()).containsExactly(25, 23, 0);
    assertThat(opened.formats()).containsExactly((short) 0, (short) 1, (short) 0);
    assertThat(opened.resultFormats()).containsExactly((short) 1);
    assertThat(opened.values().get(0)).isEqualTo("123-45-6789".getBytes(UTF_8));
    assertThat(opened.values().get(1)).isEqualTo(new byte[] {0, 0, 0, 42});
    assertThat(opened.values().get(2)).isNull();
    assertThat(sealed).startsWith("aesgcm1." + ParameterSeal.keyId(KEY) + ".");
    assertThat(sealed).doesNotContain("123-45-6789");
  }

  @Test
  void aSealMovedToAnotherStatementOrSessionDoesNotOpen() {
    ParameterSeal seal = ParameterSeal.withKey(KEY);
    String sealed = seal.seal("s-1", 7, VALUES).orElseThrow();

    assertThatThrownBy(() -> seal.open("s-1", 8, sealed))
        .isInstanceOf(SealException.class)
        .hasMessageContaining("made for another statement");
    assertThatThrownBy(() -> seal.open("s-2", 7, sealed)).isInstanceOf(SealException.class);
  }

  @Test
  void anAlteredSealDoesNotOpen() {
    ParameterSeal seal = ParameterSeal.withKey(KEY);
    String sealed = seal.seal("s-1", 7, VALUES).orElseThrow();
    char last = sealed.charAt(sealed.length() - 2);
    String altered =
        sealed.substring(0, sealed.length() - 2)
            + (last == 'A' ? 'B' : 'A')
            + sealed.charAt(sealed.length() - 1);

    assertThatThrownBy(() -> seal.open("s-1", 7, altered)).isInstanceOf(SealException.class);
    assertThatThrownBy(() -> seal.open("s-1", 7, "aesgcm1." + ParameterSeal.keyId(KEY) + ".AA"))
        .hasMessageContaining("truncated");
    assertThatThrownBy(() -> seal.open("s-1", 7, "plain text"))
        .hasMessageContaining("not a parameter seal");
  }

  @Test
  void anotherKeyOrNoKeyIsNamedNotGuessed() {
    String sealed = ParameterSeal.withKey(KEY).seal("s-1", 7, VALUES).orElseThrow();
    byte[] other = KEY.clone();
    other[0] ^= 1;

    assertThatThrownBy(() -> ParameterSeal.withKey(other).open("s-1", 7, sealed))
        .hasMessageContaining("sealed under key " + ParameterSeal.keyId(KEY))
        .hasMessageContaining("not the configured sealing key");
    assertThatThrownBy(() -> ParameterSeal.none().open("s-1", 7, sealed))
        .isInstanceOf(SealException.class);
  }

  @Test
  void withoutAKeyOrWithoutValuesNothingIsSealed() {
    assertThat(ParameterSeal.none().seal("s-1", 7, VALUES)).isEmpty();
    assertThat(ParameterSeal.withKey(KEY).seal("s-1", 7, new Values(List.of(), List.of())))
        .isEmpty();
  }

  @Test
  void twoSealsOfTheSameValuesDiffer() {
    ParameterSeal seal = ParameterSeal.withKey(KEY);
    assertThat(seal.seal("s-1", 7, VALUES)).isNotEqualTo(seal.seal("s-1", 7, VALUES));
  }

  @Test
  void aKeyFileMustHoldExactly32Bytes(@TempDir Path dir) throws Exception {
    Path shortKey = Files.write(dir.resolve("short.key"), new byte[16]);
    Path key = Files.write(dir.resolve("sealing.key"), KEY);

    assertThatThrownBy(() -> ParameterSeal.fromKeyFile(shortKey))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("holds 16 bytes")
        .hasMessageContaining("openssl rand");
    String sealed = ParameterSeal.fromKeyFile(key).seal("s", 1, VALUES).orElseThrow();
    assertThat(ParameterSeal.withKey(KEY).open("s", 1, sealed).values()).hasSize(3);
  }
}
