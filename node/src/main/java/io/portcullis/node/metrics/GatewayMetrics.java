package io.portcullis.node.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.portcullis.policy.rules.Decision;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;
import org.apache.pekko.cluster.ClusterEvent.CurrentClusterState;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;

/**
 * The node's metrics, one registry per actor system, scraped by Prometheus at {@code GET /metrics}
 * on the management port ({@link MetricsRoute}). Sessions, stages and sockets report here through
 * meters resolved once, so that the statement path only adds to counters.
 */
public final class GatewayMetrics implements Extension {

  /** The decision counted for a statement whose policy could not be evaluated. */
  public static final String POLICY_ERROR = "error";

  private static final Map<String, MemberStatus> MEMBER_STATUSES =
      Map.of(
          "joining", MemberStatus.joining(),
          "weakly_up", MemberStatus.weaklyUp(),
          "up", MemberStatus.up(),
          "leaving", MemberStatus.leaving(),
          "exiting", MemberStatus.exiting(),
          "down", MemberStatus.down(),
          "preparing_for_shutdown", MemberStatus.shuttingDown(),
          "ready_for_shutdown", MemberStatus.shutDown());

  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicInteger sessionsOpen = new AtomicInteger();
  private final Map<String, Counter> statements;
  private final Timer approvalWait;
  private final Counter maskedValues;
  private final Timer journalWrite;
  private final Timer upstreamLatency;
  private final Counter clientBytesReceived;
  private final Counter clientBytesSent;
  private final Map<String, Counter> errors = new ConcurrentHashMap<>();
  private final Counter gatewayMessagesSent;
  private final Counter gatewayMessagesReceived;
  private final Counter pekkoMessagesSent;
  private final Counter pekkoMessagesReceived;

  private GatewayMetrics(ActorSystem<?> system) {
    Gauge.builder("portcullis.sessions.open", sessionsOpen, AtomicInteger::get)
        .description("Sessions whose pipeline runs")
        .register(registry);
    Map<String, Counter> byDecision = new HashMap<>();
    for (Decision decision : Decision.values()) {
      byDecision.put(decision.policyName(), statementCounter(decision.policyName()));
    }
    byDecision.put(POLICY_ERROR, statementCounter(POLICY_ERROR));
    statements = Map.copyOf(byDecision);
    approvalWait =
        timer(
            "portcullis.approval.wait",
            "How long held statements waited for their approval's decision",
            Duration.ofSeconds(1),
            Duration.ofDays(1));
    maskedValues =
        Counter.builder("portcullis.masked.values")
            .description("Result values the masking replaced or nulled")
            .register(registry);
    journalWrite =
        timer(
            "portcullis.journal.write",
            "Latency of the sessions' durable journal appends",
            Duration.ofMillis(1),
            Duration.ofSeconds(10));
    upstreamLatency =
        timer(
            "portcullis.upstream.latency",
            "From a statement's forwarding upstream to its first response",
            Duration.ofMillis(1),
            Duration.ofMinutes(5));
    clientBytesReceived =
        Counter.builder("portcullis.client.bytes.received")
            .description("Protocol bytes read from client connections (inside TLS)")
            .register(registry);
    clientBytesSent =
        Counter.builder("portcullis.client.bytes.sent")
            .description("Protocol bytes written to client connections (inside TLS)")
            .register(registry);
    gatewayMessagesSent = clusterMessages("gateway", "sent");
    gatewayMessagesReceived = clusterMessages("gateway", "received");
    pekkoMessagesSent = clusterMessages("pekko", "sent");
    pekkoMessagesReceived = clusterMessages("pekko", "received");
    Gauge.builder("portcullis.cluster.messages.per.statement", this, GatewayMetrics::perStatement)
        .description("Gateway messages sent to other nodes per statement judged; stays near 0")
        .register(registry);
    MEMBER_STATUSES.forEach(
        (name, status) ->
            Gauge.builder(
                    "portcullis.cluster.members", () -> count(Cluster.get(system).state(), status))
                .description("Cluster members by status, as this node sees them")
                .tag("status", name)
                .register(registry));
    Gauge.builder(
            "portcullis.cluster.members", () -> Cluster.get(system).state().getUnreachable().size())
        .description("Cluster members by status, as this node sees them")
        .tag("status", "unreachable")
        .register(registry);
  }

  public static GatewayMetrics get(ActorSystem<?> system) {
    return Id.INSTANCE.apply(system);
  }

  /** The metrics in Prometheus' text format. */
  public String scrape() {
    return registry.scrape();
  }

  public void sessionOpened() {
    sessionsOpen.incrementAndGet();
  }

  public void sessionClosed() {
    sessionsOpen.decrementAndGet();
  }

  /**
   * @param decision what the policy decided of a statement: a {@link Decision}'s policy name, or
   *     {@link #POLICY_ERROR}
   */
  public void statementDecided(String decision) {
    statements.get(decision).increment();
  }

  public void approvalWaited(long nanos) {
    approvalWait.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void valuesMasked(int count) {
    maskedValues.increment(count);
  }

  public void journalWritten(long nanos) {
    journalWrite.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void upstreamAnswered(long nanos) {
    upstreamLatency.record(nanos, TimeUnit.NANOSECONDS);
  }

  public void clientBytesReceived(int bytes) {
    clientBytesReceived.increment(bytes);
  }

  public void clientBytesSent(int bytes) {
    clientBytesSent.increment(bytes);
  }

  /** An ErrorResponse went to a client. */
  public void errorSent(String sqlState) {
    errors
        .computeIfAbsent(
            sqlState == null ? "unknown" : sqlState,
            code ->
                Counter.builder("portcullis.errors")
                    .description("ErrorResponses sent to clients, by SQLSTATE")
                    .tag("sqlstate", code)
                    .register(registry))
        .increment();
  }

  /**
   * A message went to another cluster node.
   *
   * @param gateway whether it is the gateway's own (a class of io.portcullis), else Pekko's
   */
  public void clusterMessageSent(boolean gateway) {
    (gateway ? gatewayMessagesSent : pekkoMessagesSent).increment();
  }

  /** A message came from another cluster node; {@code gateway} as for a sent one. */
  public void clusterMessageReceived(boolean gateway) {
    (gateway ? gatewayMessagesReceived : pekkoMessagesReceived).increment();
  }

  private Counter statementCounter(String decision) {
    return Counter.builder("portcullis.statements")
        .description("Statements judged, by what the policy decided")
        .tag("decision", decision)
        .register(registry);
  }

  private Counter clusterMessages(String kind, String direction) {
    return Counter.builder("portcullis.cluster.messages")
        .description("Messages to and from other cluster nodes")
        .tag("kind", kind)
        .tag("direction", direction)
        .register(registry);
  }

  private Timer timer(String name, String description, Duration from, Duration to) {
    return Timer.builder(name)
        .description(description)
        .publishPercentileHistogram()
        .minimumExpectedValue(from)
        .maximumExpectedValue(to)
        .register(registry);
  }

  private double perStatement() {
    double judged = 0;
    for (Counter counter : statements.values()) {
      judged += counter.count();
    }
    return judged == 0 ? 0 : gatewayMessagesSent.count() / judged;
  }

  private static int count(CurrentClusterState state, MemberStatus status) {
    int members = 0;
    for (Member member : state.getMembers()) {
      if (member.status().equals(status)) {
        members++;
      }
    }
    return members;
  }

  private static final class Id extends ExtensionId<GatewayMetrics> {
    private static final Id INSTANCE = new Id();

    @Override
    public GatewayMetrics createExtension(ActorSystem<?> system) {
      return new GatewayMetrics(system);
    }
  }
}
