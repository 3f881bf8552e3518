package io.portcullis.node.approval;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpServer;
import com.typesafe.config.ConfigFactory;
import io.portcullis.node.approval.WebhookSettings.Endpoint;
import io.portcullis.node.approval.WebhookSettings.Format;
import io.portcullis.persistence.approval.ApprovalView;
import io.portcullis.policy.identity.Identity;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntUnaryOperator;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Announcements reach real HTTP endpoints, survive failing ones, and never hold up the caller. */
class WebhookNotifierTest {

  private static final Duration TIMEOUT = Duration.ofMillis(300);
  private static final Duration FIRST_RETRY_DELAY = Duration.ofMillis(10);
  private static final ObjectMapper json = new ObjectMapper();

  private static final ApprovalView NOTICE =
      view(
          "a-91f2",
          new Identity("alice", "https://idp.bank.example", Set.of(), false),
          "ledger",
          "DELETE FROM payments WHERE id = 7",
          List.of("no-deletes", "payments-writes"),
          "deletes on payments need two approvers",
          Set.of("payments-leads", "dba"),
          2,
          "wait",
          Optional.of(Duration.ofMinutes(30)),
          Instant.parse("2025-03-01T10:00:00Z"),
          Instant.parse("2025-03-01T10:15:00Z"));

  private final List<Receiver> receivers = new ArrayList<>();
  private final List<WebhookNotifier> notifiers = new ArrayList<>();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger notifierLogger = (Logger) LoggerFactory.getLogger(WebhookNotifier.class);

  @BeforeEach
  void captureLogs() {
    logs.start();
    notifierLogger.addAppender(logs);
  }

  @AfterEach
  void stop() {
    notifierLogger.detachAppender(logs);
    notifiers.forEach(WebhookNotifier::close);
    receivers.forEach(Receiver::stop);
  }

  @Test
  void theGenericFormatCarriesEveryField() throws Exception {
    Receiver receiver = receiver(attempt -> 204);
    notifier(5, endpoint(receiver, Format.GENERIC)).announce(NOTICE);

    await().atMost(5, TimeUnit.SECONDS).until(() -> receiver.requests.size() == 1);
    Request request = receiver.requests.get(0);
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.headers().getFirst("Content-Type")).isEqualTo("application/json");
    JsonNode body = json.readTree(request.body());
    assertThat(body.get("event").asText()).isEqualTo("approval.requested");
    assertThat(body.get("approvalId").asText()).isEqualTo("a-91f2");
    assertThat(body.at("/requester/subject").asText()).isEqualTo("alice");
    assertThat(body.at("/requester/issuer").asText()).isEqualTo("https://idp.bank.example");
    assertThat(body.at("/requester/agent").isBoolean()).isTrue();
    assertThat(body.at("/requester/agent").asBoolean()).isFalse();
    assertThat(body.get("target").asText()).isEqualTo("ledger");
    assertThat(body.get("statement").asText()).isEqualTo("DELETE FROM payments WHERE id = 7");
    assertThat(texts(body.get("rules"))).containsExactly("no-deletes", "payments-writes");
    assertThat(body.get("reason").asText()).isEqualTo("deletes on payments need two approvers");
    assertThat(texts(body.get("approverGroups"))).containsExactly("dba", "payments-leads");
    assertThat(body.get("required").asInt()).isEqualTo(2);
    assertThat(body.get("mode").asText()).isEqualTo("wait");
    assertThat(body.get("grant").asText()).isEqualTo("PT30M");
    assertThat(body.get("requestedAt").asText()).isEqualTo("2025-03-01T10:00:00Z");
    assertThat(body.get("expiresAt").asText()).isEqualTo("2025-03-01T10:15:00Z");
    assertThat(body.get("show").asText()).isEqualTo("portcullis approvals show a-91f2");
  }

  @Test
  void noGrantIsJsonNull() throws Exception {
    ApprovalView noGrant = agentNotice("SELECT 1", "why");
    JsonNode body = json.readTree(WebhookNotifier.body(Format.GENERIC, noGrant));
    assertThat(body.get("grant").isNull()).isTrue();
    assertThat(body.at("/requester/agent").asBoolean()).isTrue();
  }

  @Test
  void theSlackFormatHasTextAndBlocksWithMarkupEscaped() throws Exception {
    Receiver receiver = receiver(attempt -> 200);
    ApprovalView hostile =
        agentNotice(
            "UPDATE t SET note = '<script>alert(1)</script>' WHERE a < 3 & b > 4",
            "ping <!channel> & everyone");
    notifier(5, endpoint(receiver, Format.SLACK)).announce(hostile);

    await().atMost(5, TimeUnit.SECONDS).until(() -> receiver.requests.size() == 1);
    JsonNode body = json.readTree(receiver.requests.get(0).body());
    assertThat(body.get("text").asText()).contains("a-7", "payments-bot", "ledger");
    JsonNode blocks = body.get("blocks");
    assertThat(blocks.isArray()).isTrue();
    assertThat(blocks)
        .allSatisfy(block -> assertThat(block.get("type").asText()).isEqualTo("section"));
    String shown =
        String.join(
            "\n",
            StreamSupport.stream(blocks.spliterator(), false)
                .map(block -> block.at("/text/text").asText())
                .toList());
    assertThat(blocks.get(0).at("/text/type").asText()).isEqualTo("mrkdwn");
    assertThat(shown)
        .contains(
            "payments-bot (agent)",
            "ledger",
            "no-updates",
            "2025-03-01T10:15:00Z",
            "1 from dba",
            "```UPDATE t SET note = '&lt;script&gt;alert(1)&lt;/script&gt;' WHERE a &lt; 3 &amp; b &gt; 4```",
            "ping &lt;!channel&gt; &amp; everyone",
            "portcullis approvals show a-7")
        .doesNotContain("<script>", "<!channel>", " & ");
  }

  @Test
  void aLongStatementIsCutTo2500CharactersForSlack() throws Exception {
    ApprovalView longStatement = agentNotice("x".repeat(3_000), "why");
    JsonNode body = json.readTree(WebhookNotifier.body(Format.SLACK, longStatement));
    assertThat(body.at("/blocks/1/text/text").asText())
        .isEqualTo("```" + "x".repeat(2_500) + "…```");
    assertThat(WebhookNotifier.mrkdwn("a&b", 6)).isEqualTo("a&amp;…");
    assertThat(WebhookNotifier.mrkdwn("a&b", 5)).as("an escape is never cut").isEqualTo("a…");
  }

  @Test
  void serverErrorsAreRetriedUntilTheEndpointAccepts() {
    Receiver receiver = receiver(attempt -> attempt <= 2 ? 500 : 200);
    notifier(5, endpoint(receiver, Format.GENERIC)).announce(NOTICE);

    await().atMost(5, TimeUnit.SECONDS).until(() -> receiver.requests.size() == 3);
    await()
        .during(300, TimeUnit.MILLISECONDS)
        .atMost(2, TimeUnit.SECONDS)
        .until(() -> receiver.requests.size() == 3);
    assertThat(receiver.requests)
        .extracting(Request::body)
        .containsOnly(receiver.requests.get(0).body());
    assertThat(warnings()).isEmpty();
  }

  @Test
  void anEndpointThatNeverAnswersIsRetriedThenGivenUp() {
    Receiver silent = receiver(attempt -> Receiver.HANG);
    WebhookNotifier notifier = notifier(3, endpoint(silent, Format.SLACK));

    notifier.announce(NOTICE);

    await().atMost(5, TimeUnit.SECONDS).until(() -> !warnings().isEmpty());
    assertThat(silent.requests).hasSize(3);
    assertThat(warnings())
        .singleElement()
        .asString()
        .contains("a-91f2", "127.0.0.1:" + silent.port(), "3 attempt(s)", "timed out")
        .doesNotContain("/hooks/secret-path");
    await()
        .during(TIMEOUT.multipliedBy(2))
        .atMost(2, TimeUnit.SECONDS)
        .until(() -> silent.requests.size() == 3);
  }

  @Test
  void unreachableOrSilentEndpointsNeitherBlockTheCallerNorTheOtherEndpoints() throws Exception {
    int closedPort;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = socket.getLocalPort();
    }
    Receiver silent = receiver(attempt -> Receiver.HANG);
    Receiver receiver = receiver(attempt -> 200);
    WebhookNotifier notifier =
        notifier(
            3,
            new Endpoint(
                URI.create("http://127.0.0.1:" + closedPort + "/hooks/secret-path"),
                Format.GENERIC,
                Map.of()),
            endpoint(silent, Format.GENERIC),
            endpoint(receiver, Format.GENERIC));

    long started = System.nanoTime();
    notifier.announce(NOTICE);
    Duration elapsed = Duration.ofNanos(System.nanoTime() - started);

    assertThat(elapsed).isLessThan(Duration.ofMillis(50));
    await().atMost(5, TimeUnit.SECONDS).until(() -> receiver.requests.size() == 1);
    String closed = "127.0.0.1:" + closedPort + " ";
    await()
        .atMost(5, TimeUnit.SECONDS)
        .until(() -> warnings().stream().anyMatch(warning -> warning.contains(closed)));
    assertThat(warnings())
        .filteredOn(warning -> warning.contains(closed))
        .singleElement()
        .asString()
        .contains("a-91f2", "3 attempt(s)")
        .doesNotContain("secret-path");
    assertThat(receiver.requests).hasSize(1);
  }

  @Test
  void configuredHeadersAndHeadersFromTheEnvironmentAreSent() {
    Receiver receiver = receiver(attempt -> 200);
    WebhookSettings settings =
        WebhookSettings.from(
            ConfigFactory.parseString(
                "webhooks = [{ url = \""
                    + receiver.url()
                    + "\", headers { X-Tenant = bank }, headers-env { Authorization = SIEM_AUTH }"
                    + " }]\n"
                    + "webhook-timeout = 300ms, webhook-max-attempts = 1,"
                    + " webhook-first-retry-delay = 10ms"),
            Map.of("SIEM_AUTH", "Bearer s3cret")::get);
    WebhookNotifier notifier = new WebhookNotifier(settings);
    notifiers.add(notifier);

    notifier.announce(NOTICE);

    await().atMost(5, TimeUnit.SECONDS).until(() -> receiver.requests.size() == 1);
    Headers headers = receiver.requests.get(0).headers();
    assertThat(headers.getFirst("X-Tenant")).isEqualTo("bank");
    assertThat(headers.getFirst("Authorization")).isEqualTo("Bearer s3cret");
    assertThat(headers.getFirst("Content-Type")).isEqualTo("application/json");
  }

  @Test
  void announcementsBeyondTheInFlightBoundAreDropped() {
    Receiver silent = receiver(attempt -> Receiver.HANG);
    WebhookNotifier notifier =
        new WebhookNotifier(
            new WebhookSettings(
                List.of(endpoint(silent, Format.GENERIC)),
                Duration.ofSeconds(5),
                1,
                FIRST_RETRY_DELAY),
            2);
    notifiers.add(notifier);

    for (int i = 0; i < 5; i++) {
      notifier.announce(NOTICE);
    }

    await().atMost(5, TimeUnit.SECONDS).until(() -> silent.requests.size() == 2);
    assertThat(warnings()).hasSize(3).allSatisfy(w -> assertThat(w).contains("in flight"));
    await()
        .during(200, TimeUnit.MILLISECONDS)
        .atMost(2, TimeUnit.SECONDS)
        .until(() -> silent.requests.size() == 2);
  }

  @Test
  void aClosedNotifierDropsAnnouncementsWithoutThrowing() {
    Receiver receiver = receiver(attempt -> 200);
    WebhookNotifier notifier = notifier(1, endpoint(receiver, Format.GENERIC));
    notifier.close();

    assertThatCode(() -> notifier.announce(NOTICE)).doesNotThrowAnyException();
    assertThat(warnings()).singleElement().asString().contains("closed");
    assertThat(receiver.requests).isEmpty();
  }

  @Test
  void retryDelaysDoubleUpToAMinute() {
    Duration first = Duration.ofSeconds(1);
    assertThat(WebhookNotifier.retryDelay(first, 1)).isEqualTo(Duration.ofSeconds(1));
    assertThat(WebhookNotifier.retryDelay(first, 2)).isEqualTo(Duration.ofSeconds(2));
    assertThat(WebhookNotifier.retryDelay(first, 4)).isEqualTo(Duration.ofSeconds(8));
    assertThat(WebhookNotifier.retryDelay(first, 7)).isEqualTo(Duration.ofMinutes(1));
    assertThat(WebhookNotifier.retryDelay(first, 1_000)).isEqualTo(Duration.ofMinutes(1));
    assertThat(WebhookNotifier.retryDelay(Duration.ZERO, 5)).isEqualTo(Duration.ZERO);
  }

  /** A request by an agent, in retry mode and without a grant, unlike {@link #NOTICE}. */
  private static ApprovalView agentNotice(String statement, String reason) {
    return view(
        "a-7",
        new Identity("payments-bot", "https://idp.bank.example", Set.of(), true),
        "ledger",
        statement,
        List.of("no-updates"),
        reason,
        Set.of("dba"),
        1,
        "retry",
        Optional.empty(),
        Instant.parse("2025-03-01T10:00:00Z"),
        Instant.parse("2025-03-01T10:15:00Z"));
  }

  private WebhookNotifier notifier(int maxAttempts, Endpoint... endpoints) {
    WebhookNotifier notifier =
        new WebhookNotifier(
            new WebhookSettings(List.of(endpoints), TIMEOUT, maxAttempts, FIRST_RETRY_DELAY));
    notifiers.add(notifier);
    return notifier;
  }

  private static Endpoint endpoint(Receiver receiver, Format format) {
    return new Endpoint(URI.create(receiver.url()), format, Map.of());
  }

  private Receiver receiver(IntUnaryOperator statusForAttempt) {
    Receiver receiver = new Receiver(statusForAttempt);
    receivers.add(receiver);
    return receiver;
  }

  private List<String> warnings() {
    return logs.list.stream()
        .filter(event -> event.getLevel() == Level.WARN)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  private static List<String> texts(JsonNode array) {
    return StreamSupport.stream(array.spliterator(), false).map(JsonNode::asText).toList();
  }

  private record Request(String method, Headers headers, String body) {}

  /** A webhook endpoint on the loopback interface that records what it receives. */
  private static final class Receiver {
    /** A status that makes the receiver never answer. */
    static final int HANG = -1;

    final List<Request> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger attempts = new AtomicInteger();
    private final CountDownLatch released = new CountDownLatch(1);
    private final ExecutorService threads = Executors.newCachedThreadPool();
    private final HttpServer server;

    Receiver(IntUnaryOperator statusForAttempt) {
      try {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      } catch (IOException e) {
        throw new IllegalStateException(e);
      }
      server.setExecutor(threads);
      server.createContext(
          "/",
          exchange -> {
            byte[] body = exchange.getRequestBody().readAllBytes();
            requests.add(
                new Request(
                    exchange.getRequestMethod(),
                    exchange.getRequestHeaders(),
                    new String(body, UTF_8)));
            int status = statusForAttempt.applyAsInt(attempts.incrementAndGet());
            if (status == HANG) {
              try {
                released.await(30, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            } else {
              exchange.sendResponseHeaders(status, -1);
            }
            exchange.close();
          });
      server.start();
    }

    int port() {
      return server.getAddress().getPort();
    }

    String url() {
      return "http://127.0.0.1:" + port() + "/hooks/secret-path";
    }

    void stop() {
      released.countDown();
      server.stop(0);
      threads.shutdownNow();
    }
  }

  private static ApprovalView view(
      String id,
      Identity requester,
      String target,
      String statement,
      List<String> rules,
      String reason,
      Set<String> approverGroups,
      int required,
      String mode,
      Optional<Duration> grant,
      Instant requestedAt,
      Instant expiresAt) {
    return new ApprovalView(
        id,
        "pending",
        grant.isPresent() ? "grant" : "statement",
        requester,
        "session-1",
        3,
        target,
        statement,
        List.of(),
        rules,
        reason,
        "sha256:0",
        mode,
        approverGroups,
        required,
        grant,
        Optional.empty(),
        List.of(),
        requestedAt,
        expiresAt,
        Optional.empty());
  }
}
