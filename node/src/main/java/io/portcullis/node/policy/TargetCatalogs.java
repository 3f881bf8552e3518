package io.portcullis.node.policy;

import io.portcullis.node.config.TargetSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The catalog dependencies of every target, read in the background: at start, every refresh
 * interval, and shortly after a DDL statement completed through the gateway. A session never waits
 * for a read; until the first one completes a target has no known views or functions. A read that
 * fails is logged and the previous snapshot stays.
 */
public final class TargetCatalogs implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(TargetCatalogs.class);

  /** Reads one target's catalog: {@link CatalogReader#load} outside tests. */
  @FunctionalInterface
  public interface Loader {
    TargetCatalog load(TargetSettings target) throws Exception;
  }

  /** The wait between a DDL and the read it causes, so that a burst of DDL costs one read. */
  static final Duration AFTER_CHANGE = Duration.ofMillis(300);

  private final Map<String, Target> targets = new LinkedHashMap<>();
  private final Loader loader;
  private final Duration refreshInterval;
  private final ScheduledExecutorService blocking;
  private final List<ScheduledFuture<?>> refreshes = new CopyOnWriteArrayList<>();
  private volatile boolean closed;

  /**
   * @param blocking runs the reads, which block on the network; owned by the caller, who shuts it
   *     down
   */
  public TargetCatalogs(
      Map<String, TargetSettings> targets,
      Loader loader,
      Duration refreshInterval,
      ScheduledExecutorService blocking) {
    targets.forEach((name, settings) -> this.targets.put(name, new Target(settings)));
    this.loader = loader;
    this.refreshInterval = refreshInterval;
    this.blocking = blocking;
  }

  /** The last snapshot read for the target; empty until one has been read. */
  public Optional<TargetCatalog> current(String target) {
    Target known = targets.get(target);
    return known == null ? Optional.empty() : Optional.ofNullable(known.snapshot);
  }

  /**
   * Reads every target, waiting up to {@code firstRead} for the first reads so that sessions rarely
   * meet a target whose catalog is unknown, then again every refresh interval.
   */
  public void start(Duration firstRead) {
    List<CompletableFuture<Void>> first = new ArrayList<>();
    for (Target target : targets.values()) {
      first.add(CompletableFuture.runAsync(target::load, blocking));
      refreshes.add(
          blocking.scheduleWithFixedDelay(
              target::load,
              refreshInterval.toMillis(),
              refreshInterval.toMillis(),
              TimeUnit.MILLISECONDS));
    }
    try {
      CompletableFuture.allOf(first.toArray(CompletableFuture[]::new))
          .get(firstRead.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException | ExecutionException e) {
      log.warn(
          "not every target's catalog was read within {}; they are read in the background",
          firstRead);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A DDL statement completed on the target: its catalog is read again soon. */
  public void changed(String target) {
    Target known = targets.get(target);
    if (known != null && !closed && known.reloadPending.compareAndSet(false, true)) {
      blocking.schedule(known::reloadAfterChange, AFTER_CHANGE.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public void close() {
    closed = true;
    refreshes.forEach(refresh -> refresh.cancel(false));
  }

  private final class Target {
    private final TargetSettings settings;
    private final AtomicBoolean reloadPending = new AtomicBoolean();
    private volatile TargetCatalog snapshot;

    Target(TargetSettings settings) {
      this.settings = settings;
    }

    void reloadAfterChange() {
      // Cleared before reading: a DDL completed during the read schedules another.
      reloadPending.set(false);
      load();
    }

    /** One read at a time per target, so that an older read never replaces a newer one. */
    synchronized void load() {
      if (closed) {
        return;
      }
      try {
        snapshot = loader.load(settings);
        log.debug("catalog of target {} read", settings.name());
      } catch (Exception e) {
        log.warn(
            "cannot read the catalog of target {} ({}); its views and functions are resolved"
                + " as last read until the next refresh",
            settings.name(),
            Objects.toString(e.getMessage(), e.getClass().getName()));
      }
    }
  }
}
