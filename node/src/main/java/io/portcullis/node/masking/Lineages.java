package io.portcullis.node.masking;

import io.portcullis.node.config.TargetSettings;
import io.portcullis.node.policy.CatalogReader;
import io.portcullis.node.policy.TargetCatalog;
import io.portcullis.node.policy.TargetCatalogs;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What each result column of a statement is computed from, asked of the target itself with {@code
 * EXPLAIN (VERBOSE)} on a connection of the gateway's own login, and remembered per statement text
 * until the target's catalog changes. Only statements whose results have computed columns over
 * protected tables are asked about, once each.
 */
public final class Lineages implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(Lineages.class);

  /** Distinct statements remembered per target; beyond this the memory starts afresh. */
  private static final int MAX_REMEMBERED = 10_000;

  private final Map<String, Target> targets = new ConcurrentHashMap<>();
  private final Map<String, TargetSettings> settings;
  private final TargetCatalogs catalogs;
  private final Executor blocking;

  /**
   * @param blocking runs the EXPLAINs, which block on the network
   */
  public Lineages(
      Map<String, TargetSettings> settings, TargetCatalogs catalogs, Executor blocking) {
    this.settings = Map.copyOf(settings);
    this.catalogs = catalogs;
    this.blocking = blocking;
  }

  /**
   * The lineage of each output column of the statement, in order; fails when the target cannot plan
   * it (then the caller masks every computed column).
   */
  public CompletionStage<List<ColumnLineage>> of(String target, String sql, int parameterCount) {
    Target known = targets.computeIfAbsent(target, Target::new);
    return known.lineage(sql, parameterCount);
  }

  @Override
  public void close() {
    targets.values().forEach(Target::close);
  }

  private final class Target {
    private final String name;
    private final Map<String, CompletableFuture<List<ColumnLineage>>> remembered =
        new ConcurrentHashMap<>();
    private volatile Optional<TargetCatalog> catalog = Optional.empty();
    private Connection connection;

    Target(String name) {
      this.name = name;
    }

    CompletionStage<List<ColumnLineage>> lineage(String sql, int parameterCount) {
      Optional<TargetCatalog> now = catalogs.current(name);
      if (!now.equals(catalog) || remembered.size() > MAX_REMEMBERED) {
        catalog = now;
        remembered.clear();
      }
      CompletableFuture<List<ColumnLineage>> lineage =
          remembered.computeIfAbsent(
              sql,
              text -> CompletableFuture.supplyAsync(() -> explain(text, parameterCount), blocking));
      lineage.whenComplete(
          (result, failure) -> {
            if (failure != null) {
              remembered.remove(sql, lineage);
            }
          });
      return lineage;
    }

    private synchronized List<ColumnLineage> explain(String sql, int parameterCount) {
      try {
        if (connection == null || connection.isClosed()) {
          TargetSettings target = settings.get(name);
          if (target == null) {
            throw new IllegalStateException("unknown target " + name);
          }
          connection = CatalogReader.connect(target);
          try (Statement settings = connection.createStatement()) {
            // A session holding a lock on a table must not make its own masking wait forever.
            settings.execute("SET lock_timeout = '2s'; SET statement_timeout = '5s'");
          }
        }
        return PlanLineage.explain(connection, sql, parameterCount);
      } catch (SQLException e) {
        log.debug("cannot plan a statement on target {}: {}", name, e.getMessage());
        closeConnectionIfBroken();
        throw new IllegalStateException(e.getMessage(), e);
      }
    }

    private void closeConnectionIfBroken() {
      try {
        if (connection != null && !connection.isValid(1)) {
          connection.close();
          connection = null;
        }
      } catch (SQLException e) {
        connection = null;
      }
    }

    synchronized void close() {
      try {
        if (connection != null) {
          connection.close();
        }
      } catch (SQLException e) {
        log.debug("closing the lineage connection of {}: {}", name, e.getMessage());
      }
    }
  }
}
