package io.portcullis.node.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import com.typesafe.config.Config;
import io.portcullis.node.config.GatewaySettings;
import io.portcullis.node.policy.CatalogReader;
import io.portcullis.node.policy.RecordedDecisions;
import io.portcullis.node.policy.TargetCatalog;
import io.portcullis.node.policy.TargetCatalogs;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.policy.rules.Policy;
import io.portcullis.policy.rules.PolicyException;
import io.portcullis.policy.rules.PolicyParser;
import io.portcullis.policy.sql.SqlAnalyzer;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.LoggerFactory;

/**
 * What {@code audit conformance} and {@code policy whatif} share to judge recorded statements
 * again: the policy versions the journal stores, and the targets' catalogs (read once; a target
 * that cannot be read counts as having no views or functions, with a warning).
 */
final class Rejudging implements AutoCloseable {

  private final JournalReader journal;
  private final Map<String, Optional<Policy>> policies = new HashMap<>();
  private final ScheduledExecutorService blocking;
  private final TargetCatalogs catalogs;
  final RecordedDecisions decisions;

  Rejudging(JournalReader journal, Config config, PrintWriter err) {
    this.journal = journal;
    // These are judgements of the past, not decisions: they stay out of the decision log.
    ((Logger) LoggerFactory.getLogger("io.portcullis.audit.decision")).setLevel(Level.WARN);
    this.blocking =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "portcullis-rejudge-catalog");
              thread.setDaemon(true);
              return thread;
            });
    this.catalogs =
        new TargetCatalogs(
            GatewaySettings.from(config).targets(),
            target -> {
              try {
                return CatalogReader.load(target);
              } catch (SQLException e) {
                err.println(
                    "portcullis: warning: cannot read the catalog of target '"
                        + target.name()
                        + "' ("
                        + e.getMessage()
                        + "): rules on its tables are not extended to its views and functions");
                return TargetCatalog.empty();
              }
            },
            Duration.ofDays(1),
            blocking);
    catalogs.start(Duration.ofSeconds(30));
    this.decisions = new RecordedDecisions(new SqlAnalyzer(), catalogs);
  }

  /** A policy version as the journal stores it; null when it does not (or it does not parse). */
  Policy policy(String version) {
    return policies
        .computeIfAbsent(
            version,
            v -> {
              try {
                Optional<String> text = journal.policyText(v);
                return text.isEmpty()
                    ? Optional.empty()
                    : Optional.of(PolicyParser.parse(v, text.get()));
              } catch (SQLException | PolicyException e) {
                return Optional.empty();
              }
            })
        .orElse(null);
  }

  @Override
  public void close() {
    catalogs.close();
    blocking.shutdownNow();
  }
}
