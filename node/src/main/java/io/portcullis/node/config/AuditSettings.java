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
 */
public record AuditSettings(
    String node,
    Duration writeTimeout,
    ResultRecord.Limits sampleLimits,
    Optional<Path> sealingKeyFile) {

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
    Optional<Path> sealingKey =
        journal.hasPath("sealing-key-file")
            ? Optional.of(Path.of(journal.getString("sealing-key-file")))
            : Optional.empty();
    return new AuditSettings(node, timeout, new ResultRecord.Limits(rows, (int) bytes), sealingKey);
  }
}
