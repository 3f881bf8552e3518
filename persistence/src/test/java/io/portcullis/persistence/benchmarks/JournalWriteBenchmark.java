package io.portcullis.persistence.benchmarks;

import com.sun.management.OperatingSystemMXBean;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.portcullis.persistence.DirectCompletion;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionJournal;
import io.portcullis.persistence.audit.TestEvents;
import io.portcullis.persistence.journal.JournalDatabase;
import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/**
 * The journal alone (bench/journal-write.sh): {@code sessions} session entities, each appending a
 * statement's three events, waiting until they are durable, and appending the next, into a
 * PostgreSQL journal. Prints statements per second, events per commit and append latencies.
 *
 * <pre>JournalWriteBenchmark URL USER PASSWORD SESSIONS WARMUP_SECONDS SECONDS [group-commit|jdbc]
 * </pre>
 */
public final class JournalWriteBenchmark {

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(30);
  private static final OperatingSystemMXBean PROCESS =
      (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

  private final ActorSystem<Void> system;
  private volatile long measureFrom;
  private volatile long stopAt;
  private final List<long[]> latencies = new ArrayList<>();

  private JournalWriteBenchmark(ActorSystem<Void> system) {
    this.system = system;
  }

  public static void main(String[] args) throws Exception {
    JournalDatabase database = new JournalDatabase(args[0], args[1], args[2], true);
    int sessions = Integer.parseInt(args[3]);
    Duration warmUp = Duration.ofSeconds(Long.parseLong(args[4]));
    Duration measured = Duration.ofSeconds(Long.parseLong(args[5]));
    boolean jdbcPlugin = args.length > 6 && args[6].equals("jdbc");
    database.ensureSchema();
    Config config =
        database.applyTo(
            ConfigFactory.parseString("pekko.actor.provider = local\npekko.loglevel = WARNING")
                .withFallback(ConfigFactory.load()));
    if (jdbcPlugin) {
      config =
          ConfigFactory.parseString(
                  "pekko.persistence.journal.plugin = jdbc-journal\n"
                      + "jdbc-journal.use-shared-db = slick\n"
                      + "jdbc-journal.parallelism = 2")
              .withFallback(config);
    }
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "bench", config);
    try {
      new JournalWriteBenchmark(system).run(database, sessions, warmUp, measured, jdbcPlugin);
    } finally {
      system.terminate();
      system.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private void run(
      JournalDatabase database,
      int sessions,
      Duration warmUp,
      Duration measured,
      boolean jdbcPlugin)
      throws Exception {
    long start = System.nanoTime();
    measureFrom = start + warmUp.toNanos();
    stopAt = measureFrom + measured.toNanos();
    String run = Long.toString(System.currentTimeMillis(), 36);
    List<CompletableFuture<Long>> statements = new ArrayList<>();
    for (int i = 0; i < sessions; i++) {
      String session = run + "-" + i;
      ActorRef<SessionJournal.Command> journal =
          system.systemActorOf(SessionJournal.create(session), "session-" + i, Props.empty());
      long[] samples = new long[(int) (measured.toSeconds() * 50_000 / sessions + 1024)];
      synchronized (latencies) {
        latencies.add(samples);
      }
      statements.add(
          append(journal, List.of(TestEvents.opened(session)))
              .thenCompose(done -> loop(journal, 1, 0, samples))
              .toCompletableFuture());
    }
    Thread.sleep(Math.max(0, (measureFrom - System.nanoTime()) / 1_000_000));
    long firstOrdering = maxOrdering(database);
    long cpuBefore = PROCESS.getProcessCpuTime();
    Thread.sleep(Math.max(0, (stopAt - System.nanoTime()) / 1_000_000));
    long cpu = PROCESS.getProcessCpuTime() - cpuBefore;
    CompletableFuture.allOf(statements.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    long lastOrdering = maxOrdering(database);

    long count = statements.stream().mapToLong(CompletableFuture::join).sum();
    long[] all =
        latencies.stream()
            .flatMapToLong(samples -> Arrays.stream(samples).filter(nanos -> nanos > 0))
            .sorted()
            .toArray();
    double seconds = measured.toNanos() / 1e9;
    long[] written = eventsAndCommits(database, firstOrdering, lastOrdering);
    System.out.printf(
        "%-12s sessions %4d: %8.0f statements/s (%6.0f events/s), %6.1f events/commit,"
            + " append p50 %.2f ms p99 %.2f ms, JVM CPU %.0f µs/statement%n",
        jdbcPlugin ? "jdbc-journal" : "group-commit",
        sessions,
        count / seconds,
        3 * count / seconds,
        written[1] == 0 ? 0.0 : (double) written[0] / written[1],
        percentile(all, 0.50),
        percentile(all, 0.99),
        count == 0 ? 0.0 : cpu / 1e3 / count);
  }

  /** Appends statement after statement until the end; the number appended while measuring. */
  private CompletionStage<Long> loop(
      ActorRef<SessionJournal.Command> journal, long number, long counted, long[] samples) {
    long began = System.nanoTime();
    if (began >= stopAt) {
      return CompletableFuture.completedFuture(counted);
    }
    return append(journal, TestEvents.statement(number))
        .thenCompose(
            done -> {
              long ended = System.nanoTime();
              boolean measuring = began >= measureFrom && ended <= stopAt;
              if (measuring && counted < samples.length) {
                samples[(int) counted] = ended - began;
              }
              return loop(journal, number + 1, measuring ? counted + 1 : counted, samples);
            });
  }

  private CompletionStage<Done> append(
      ActorRef<SessionJournal.Command> journal, List<SessionEvent> events) {
    // As the gateway's SessionRecorder asks.
    return DirectCompletion.of(
        AskPattern.ask(
            journal,
            replyTo -> new SessionJournal.Append(events, replyTo),
            ASK_TIMEOUT,
            system.scheduler()));
  }

  private static double percentile(long[] sorted, double fraction) {
    if (sorted.length == 0) {
      return 0;
    }
    return sorted[(int) Math.min(sorted.length - 1, sorted.length * fraction)] / 1e6;
  }

  private static long maxOrdering(JournalDatabase database) throws SQLException {
    try (Connection connection = database.connect();
        Statement statement = connection.createStatement();
        ResultSet rows =
            statement.executeQuery("SELECT coalesce(max(ordering), 0) FROM event_journal")) {
      rows.next();
      return rows.getLong(1);
    }
  }

  /** Events written between two orderings, and in how many transactions (PostgreSQL's xmin). */
  private static long[] eventsAndCommits(JournalDatabase database, long after, long upTo)
      throws SQLException {
    try (Connection connection = database.connect();
        Statement statement = connection.createStatement();
        ResultSet rows =
            statement.executeQuery(
                "SELECT count(*), count(DISTINCT xmin::text) FROM event_journal"
                    + " WHERE ordering > "
                    + after
                    + " AND ordering <= "
                    + upTo)) {
      rows.next();
      return new long[] {rows.getLong(1), rows.getLong(2)};
    }
  }
}
