package io.portcullis.node.audit;

import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.StatementCompleted;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * What the client received of one statement's result, as the journal records it: the rows counted,
 * a SHA-256 over every (masked) value in order, and the first rows up to the sample limits, each
 * value as text ({@code \x…} hex for binary values, null for SQL NULL).
 */
public final class ResultRecord {

  /** How much of each result the journal keeps. */
  public record Limits(int rows, int bytes) {}

  private final long statement;
  private final Instant started;
  private final Limits limits;
  private final MessageDigest digest;
  private final List<List<String>> sample = new ArrayList<>();
  private final byte[] length = new byte[Integer.BYTES];
  private long rows;
  private int sampleBytes;
  private boolean sampleComplete = true;

  public ResultRecord(long statement, Instant started, Limits limits) {
    this.statement = statement;
    this.started = started;
    this.limits = limits;
    try {
      this.digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 unavailable", e);
    }
  }

  /** A row as the client received it; {@code binary[i]} says which values are binary. */
  public void row(byte[][] values, boolean[] binary) {
    rows++;
    for (byte[] value : values) {
      int size = value == null ? -1 : value.length;
      length[0] = (byte) (size >>> 24);
      length[1] = (byte) (size >>> 16);
      length[2] = (byte) (size >>> 8);
      length[3] = (byte) size;
      digest.update(length);
      if (value != null) {
        digest.update(value);
      }
    }
    if (!sampleComplete) {
      return;
    }
    int size = 0;
    for (byte[] value : values) {
      size += value == null ? 0 : value.length;
    }
    if (sample.size() >= limits.rows() || sampleBytes + size > limits.bytes()) {
      sampleComplete = false;
      return;
    }
    sampleBytes += size;
    List<String> shown = new ArrayList<>(values.length);
    for (int i = 0; i < values.length; i++) {
      byte[] value = values[i];
      shown.add(
          value == null
              ? null
              : binary[i]
                  ? "\\x" + HexFormat.of().formatHex(value)
                  : new String(value, StandardCharsets.UTF_8));
    }
    sample.add(shown);
  }

  public long statement() {
    return statement;
  }

  /** The journal event for the result, ended by a command tag or an error's SQLSTATE. */
  public StatementCompleted completed(Optional<String> commandTag, Optional<String> sqlState) {
    Instant now = Instant.now();
    return new StatementCompleted(
        SessionEvent.SCHEMA_VERSION,
        now,
        statement,
        commandTag,
        rows,
        Duration.between(started, now).toNanos() / 1_000,
        sqlState,
        sample,
        sampleComplete,
        HexFormat.of().formatHex(digest.digest()),
        null);
  }
}
