package io.portcullis.node.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import io.portcullis.node.audit.ResultRecord;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * How sessions use the audit journal ({@code portcullis.journal}).
 *
 * @param node this node's name in the journal's session records
 * @param writeTimeout how long a statement waits for the journal before it is refused
 * @param sampleLimits how much of each result the journal keeps (masked)
 * @param sealingKeyFile the AES-256 key that seals parameter values for replay; without it the
 *     journal keeps them masked only
 * @param checkpointInterval how often the node's ledger checkpoints the sessions that moved
 * @param signingKeyFile the Ed25519 key that signs the ledger's checkpoints; without it a key made
 *     at start, lost at restart
 */
public record AuditSettings(
    String node,
    Duration writeTimeout,
    ResultRecord.Limits sampleLimits,
    Optional<Path> sealingKeyFile,
    Duration checkpointInterval,
    Optional<Path> signingKeyFile) {

  public static AuditSettings from(Config journal, String node) {
    Duration timeout = journal.getDuration("write-timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new ConfigException.BadValue("portcullis.journal.write-timeout", "must be positive");
    }
    int rows = journal.getInt("sample-rows");
    long bytes = journal.getBytes("sample-bytes");
    if (rows < 0 || bytes < 0 || bytes > Integer.MAX_VALUE) {
      throw new ConfigException.BadValue(
          "portcullis.journal.sample-rows", "sample-rows and sample-bytes must be 0 or more");
    }
    return new AuditSettings(
        node,
        timeout,
        new ResultRecord.Limits(rows, (int) bytes),
        file(journal, "sealing-key-file"),
        checkpointInterval(journal),
        file(journal, "signing-key-file"));
  }

  /** {@code checkpoint-interval}, which {@code audit verify} reads too. */
  public static Duration checkpointInterval(Config journal) {
    Duration interval = journal.getDuration("checkpoint-interval");
    if (interval.isNegative() || interval.isZero()) {
      throw new ConfigException.BadValue(
          "portcullis.journal.checkpoint-interval", "must be positive");
    }
    return interval;
  }

  private static Optional<Path> file(Config journal, String key) {
    String file = journal.getString(key);
    return file.isEmpty() ? Optional.empty() : Optional.of(Path.of(file));
  }
}
