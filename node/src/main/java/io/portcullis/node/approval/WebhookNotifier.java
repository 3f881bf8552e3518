package io.portcullis.node.approval;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.portcullis.node.approval.WebhookSettings.Endpoint;
import io.portcullis.node.approval.WebhookSettings.Format;
import io.portcullis.persistence.approval.ApprovalView;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Announces new approval requests to the configured webhooks. {@link #announce} only hands the work
 * over: posting, retrying and giving up happen on other threads, so a slow or broken webhook never
 * holds up the gateway.
 */
public final class WebhookNotifier implements AutoCloseable {

  static final Duration MAX_RETRY_DELAY = Duration.ofMinutes(1);
  static final int MAX_DELIVERIES_IN_FLIGHT = 1_000;
  static final int STATEMENT_LIMIT = 2_500;

  /** Keeps Slack's details section under the 3,000 characters Slack accepts in one section. */
  private static final int FIELD_LIMIT = 300;

  private static final Logger log = LoggerFactory.getLogger(WebhookNotifier.class);

  private final WebhookSettings settings;
  private final HttpClient client;
  private final ScheduledExecutorService scheduler;

  /** One permit per delivery (one approval to one endpoint) not yet delivered or given up. */
  private final Semaphore inFlight;

  private final int maxDeliveriesInFlight;
  private volatile boolean closed;

  public WebhookNotifier(WebhookSettings settings) {
    this(settings, MAX_DELIVERIES_IN_FLIGHT);
  }

  WebhookNotifier(WebhookSettings settings, int maxDeliveriesInFlight) {
    this.settings = settings;
    this.client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(settings.timeout())
            .build();
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "portcullis-approval-webhooks");
              thread.setDaemon(true);
              return thread;
            });
    this.inFlight = new Semaphore(maxDeliveriesInFlight);
    this.maxDeliveriesInFlight = maxDeliveriesInFlight;
  }

  /** Starts posting the notice to every endpoint and returns at once; never throws. */
  public void announce(ApprovalView notice) {
    int deliveries = settings.endpoints().size();
    if (deliveries == 0) {
      return;
    }
    if (closed) {
      log.warn("approval {} not announced: the webhook notifier is closed", notice.id());
      return;
    }
    if (!inFlight.tryAcquire(deliveries)) {
      log.warn(
          "approval {} not announced to webhooks: {} deliveries are still in flight",
          notice.id(),
          maxDeliveriesInFlight);
      return;
    }
    try {
      scheduler.execute(() -> start(notice));
    } catch (RejectedExecutionException e) {
      inFlight.release(deliveries);
      log.warn("approval {} not announced: the webhook notifier is closed", notice.id());
    }
  }

  @Override
  public void close() {
    closed = true;
    scheduler.shutdownNow();
  }

  private record Delivery(Endpoint endpoint, String approvalId, HttpRequest request) {}

  private void start(ApprovalView notice) {
    Map<Format, byte[]> bodies = new EnumMap<>(Format.class);
    for (Endpoint endpoint : settings.endpoints()) {
      HttpRequest request;
      try {
        request =
            request(endpoint, bodies.computeIfAbsent(endpoint.format(), f -> body(f, notice)));
      } catch (RuntimeException e) {
        // An executor swallows a task's exception; the permit must come back all the same.
        inFlight.release();
        log.error(
            "approval {} not announced to webhook {}: cannot build the message",
            notice.id(),
            endpoint.displayName(),
            e);
        continue;
      }
      attempt(new Delivery(endpoint, notice.id(), request), 1);
    }
  }

  private HttpRequest request(Endpoint endpoint, byte[] body) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(endpoint.url())
            .timeout(settings.timeout())
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    endpoint.headers().forEach(request::header);
    return request.header("Content-Type", "application/json").build();
  }

  private void attempt(Delivery delivery, int attempt) {
    CompletableFuture<HttpResponse<InputStream>> exchange;
    try {
      // The body is never read: the status says enough, and the request timeout ends at the
      // response headers, so a body that never ends must not hold the delivery.
      exchange = client.sendAsync(delivery.request(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (RuntimeException e) {
      exchange = CompletableFuture.failedFuture(e);
    }
    exchange.whenComplete((response, failure) -> settle(delivery, attempt, response, failure));
  }

  private void settle(
      Delivery delivery, int attempt, HttpResponse<InputStream> response, Throwable failure) {
    String problem;
    if (response != null) {
      closeQuietly(response.body());
      if (response.statusCode() / 100 == 2) {
        inFlight.release();
        return;
      }
      problem = "HTTP " + response.statusCode();
    } else {
      problem = describe(failure, delivery.endpoint());
    }
    String where = delivery.endpoint().displayName();
    if (attempt >= settings.maxAttempts()) {
      inFlight.release();
      log.warn(
          "gave up announcing approval {} to webhook {} after {} attempt(s); last failure: {}",
          delivery.approvalId(),
          where,
          attempt,
          problem);
      return;
    }
    Duration delay = retryDelay(settings.firstRetryDelay(), attempt);
    log.debug(
        "announcing approval {} to webhook {} failed ({}); attempt {} in {} ms",
        delivery.approvalId(),
        where,
        problem,
        attempt + 1,
        delay.toMillis());
    try {
      scheduler.schedule(
          () -> attempt(delivery, attempt + 1), delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      inFlight.release();
    }
  }

  /** The wait after {@code failedAttempts} failures: the first delay, doubled each time, capped. */
  static Duration retryDelay(Duration first, int failedAttempts) {
    Duration delay = first;
    for (int i = 1; i < failedAttempts && delay.compareTo(MAX_RETRY_DELAY) < 0; i++) {
      delay = delay.multipliedBy(2);
    }
    return delay.compareTo(MAX_RETRY_DELAY) < 0 ? delay : MAX_RETRY_DELAY;
  }

  private static String describe(Throwable failure, Endpoint endpoint) {
    Throwable cause =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    String text =
        cause.getClass().getSimpleName()
            + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
    return text.replace(endpoint.url().toString(), endpoint.displayName());
  }

  private static void closeQuietly(InputStream body) {
    try {
      body.close();
    } catch (IOException e) {
      log.debug("cannot close a webhook response", e);
    }
  }

  static byte[] body(Format format, ApprovalView notice) {
    ObjectNode body = format == Format.SLACK ? slackMessage(notice) : genericEvent(notice);
    return body.toString().getBytes(UTF_8);
  }

  private static ObjectNode genericEvent(ApprovalView notice) {
    ObjectNode event = JsonNodeFactory.instance.objectNode();
    event.put("event", "approval.requested");
    event.put("approvalId", notice.id());
    event
        .putObject("requester")
        .put("subject", notice.requester().subject())
        .put("issuer", notice.requester().issuer())
        .put("agent", notice.requester().agent());
    event.put("target", notice.target());
    event.put("statement", notice.statement());
    ArrayNode rules = event.putArray("rules");
    notice.rules().forEach(rules::add);
    event.put("reason", notice.reason());
    ArrayNode groups = event.putArray("approverGroups");
    sortedGroups(notice).forEach(groups::add);
    event.put("required", notice.required());
    event.put("mode", notice.mode());
    event.put("grant", notice.grant().map(Duration::toString).orElse(null));
    event.put("requestedAt", notice.requestedAt().toString());
    event.put("expiresAt", notice.expiresAt().toString());
    event.put("show", ("portcullis approvals show " + notice.id()));
    return event;
  }

  /** A Slack incoming-webhook message: a summary line for notifications, details in blocks. */
  private static ObjectNode slackMessage(ApprovalView notice) {
    ObjectNode message = JsonNodeFactory.instance.objectNode();
    message.put(
        "text",
        mrkdwn(
            "Approval "
                + notice.id()
                + " requested by "
                + notice.requester().subject()
                + " on "
                + notice.target(),
            FIELD_LIMIT));
    String details =
        String.join(
            "\n",
            "*Approval requested* `" + mrkdwn(notice.id(), FIELD_LIMIT) + "`",
            "*Who:* "
                + mrkdwn(notice.requester().subject(), FIELD_LIMIT)
                + (notice.requester().agent() ? " (agent)" : " (person)"),
            "*Target:* " + mrkdwn(notice.target(), FIELD_LIMIT),
            "*Reason:* " + mrkdwn(notice.reason(), FIELD_LIMIT),
            "*Rules:* " + mrkdwn(String.join(", ", notice.rules()), FIELD_LIMIT),
            "*Approvers:* "
                + notice.required()
                + " from "
                + mrkdwn(String.join(", ", sortedGroups(notice)), FIELD_LIMIT),
            "*Expires:* " + notice.expiresAt());
    // Slack refuses a section text over 3,000 characters, so the statement has its own section.
    ArrayNode blocks = message.putArray("blocks");
    section(blocks, details);
    section(blocks, "```" + mrkdwn(notice.statement(), STATEMENT_LIMIT) + "```");
    section(blocks, "`" + mrkdwn(("portcullis approvals show " + notice.id()), FIELD_LIMIT) + "`");
    return message;
  }

  private static void section(ArrayNode blocks, String text) {
    blocks
        .addObject()
        .put("type", "section")
        .putObject("text")
        .put("type", "mrkdwn")
        .put("text", text);
  }

  private static List<String> sortedGroups(ApprovalView notice) {
    return List.copyOf(new TreeSet<>(notice.approverGroups()));
  }

  /**
   * Escapes text as Slack mrkdwn requires (so that {@code <!channel>} in a statement pings nobody)
   * and keeps at most {@code limit} escaped characters, marking a cut with "…".
   */
  static String mrkdwn(String text, int limit) {
    if (text == null) {
      return "";
    }
    StringBuilder escaped = new StringBuilder();
    for (int i = 0; i < text.length(); ) {
      int c = text.codePointAt(i);
      String piece =
          c == '&'
              ? "&amp;"
              : c == '<' ? "&lt;" : c == '>' ? "&gt;" : new String(Character.toChars(c));
      if (escaped.length() + piece.length() > limit) {
        return escaped.append('…').toString();
      }
      escaped.append(piece);
      i += Character.charCount(c);
    }
    return escaped.toString();
  }
}
