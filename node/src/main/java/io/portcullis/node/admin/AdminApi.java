package io.portcullis.node.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.portcullis.node.approval.Approvals;
import io.portcullis.node.audit.AuditJson;
import io.portcullis.node.control.SessionEnder;
import io.portcullis.node.replay.Replays;
import io.portcullis.persistence.approval.Approval;
import io.portcullis.persistence.approval.ApprovalId;
import io.portcullis.persistence.approval.ApprovalStatus;
import io.portcullis.persistence.approval.ApprovalView;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.index.SessionQuery;
import io.portcullis.persistence.audit.index.StatementExport;
import io.portcullis.persistence.audit.index.TimeRange;
import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.identity.LoginOutcome;
import io.portcullis.policy.identity.OidcAuthenticator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.apache.pekko.NotUsed;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.ExceptionHandler;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP API's routes: approvers list, show, approve and deny approval requests; auditors
 * query sessions, read their timelines and export statements; replayers have a replay authorised
 * and journaled. Each call is authenticated by the caller's own OIDC bearer token. Documented in
 * {@code docs/admin-api.md}.
 */
public final class AdminApi extends AllDirectives {

  private static final Logger log = LoggerFactory.getLogger(AdminApi.class);
  private static final ObjectMapper JSON = AuditJson.MAPPER;
  private static final int DEFAULT_LIMIT = 1_000;
  private static final int EXPORT_CHUNK = 64 * 1024;
  private static final Set<String> EXPORT_PARAMETERS = Set.of("since", "until", "format");
  private static final Set<String> SESSION_PARAMETERS =
      Set.of(
          "user",
          "since",
          "until",
          "target",
          "table",
          "decision",
          "approval",
          "client",
          "sqlstate",
          "limit");

  private final Approvals approvals;
  private final AuditReads audit;
  private final Set<String> auditorGroups;
  private final Set<String> operatorGroups;
  private final SessionEnder sessions;
  private final Replays replays;
  private final Optional<OidcAuthenticator> tokens;
  private final Executor blocking;

  /**
   * @param auditorGroups callers in any of these groups may read the audit trail
   * @param operatorGroups callers in any of these groups may end sessions
   * @param sessions ends a session on whichever node it runs
   * @param tokens verifies bearer tokens; without it (no OIDC issuer configured) every call is
   *     refused, since nobody could prove who approves
   * @param blocking where token verification and the audit trail's reads run
   */
  public AdminApi(
      Approvals approvals,
      AuditReads audit,
      Set<String> auditorGroups,
      Set<String> operatorGroups,
      SessionEnder sessions,
      Replays replays,
      Optional<OidcAuthenticator> tokens,
      Executor blocking) {
    this.approvals = approvals;
    this.audit = audit;
    this.auditorGroups = Set.copyOf(auditorGroups);
    this.operatorGroups = Set.copyOf(operatorGroups);
    this.sessions = sessions;
    this.replays = replays;
    this.tokens = tokens;
    this.blocking = blocking;
  }

  public Route routes() {
    return handleExceptions(failures, this::apiRoutes);
  }

  /**
   * A request whose answer depends on an entity that does not answer in time, typically one that
   * lived on a node that is leaving or down until the cluster moves it, gets a JSON 503 saying to
   * retry; anything else unexpected a JSON 500.
   */
  private final ExceptionHandler failures =
      ExceptionHandler.newBuilder()
          .matchAny(
              failure -> {
                Throwable cause =
                    failure instanceof CompletionException && failure.getCause() != null
                        ? failure.getCause()
                        : failure;
                if (cause instanceof TimeoutException) {
                  return error(
                      StatusCodes.SERVICE_UNAVAILABLE,
                      "the cluster did not answer in time (a gateway node may be leaving or down);"
                          + " try again in a few seconds");
                }
                log.error("admin API request failed", failure);
                return error(
                    StatusCodes.INTERNAL_SERVER_ERROR,
                    "the request failed inside the gateway; its log has the details");
              })
          .build();

  private Route apiRoutes() {
    return pathPrefix(
        "api",
        () ->
            pathPrefix(
                "v1",
                () ->
                    concat(
                        pathPrefix(
                            "replays",
                            () ->
                                authenticated(
                                    caller ->
                                        pathEndOrSingleSlash(() -> post(() -> replay(caller))))),
                        pathPrefix("approvals", () -> authenticated(this::approvals)),
                        path(
                            PathMatchers.segment("sessions")
                                .slash(PathMatchers.segment())
                                .slash("end"),
                            session ->
                                post(() -> authenticated(caller -> endSession(caller, session)))),
                        pathPrefix(
                            "audit",
                            () -> authenticated(caller -> auditor(caller, this::audit))))));
  }

  private Route approvals(Identity caller) {
    return concat(
        pathEndOrSingleSlash(
            () -> get(() -> parameterOptional("status", status -> list(caller, status)))),
        path(PathMatchers.segment(), id -> get(() -> withId(id, found -> show(caller, found)))),
        path(PathMatchers.segment().slash("approve"), id -> post(() -> decide(caller, id, true))),
        path(PathMatchers.segment().slash("deny"), id -> post(() -> decide(caller, id, false))));
  }

  private Route audit() {
    return concat(
        path("sessions", () -> get(() -> parameterMap(this::sessions))),
        path(
            PathMatchers.segment("sessions").slash(PathMatchers.segment()),
            session -> get(() -> timeline(session))),
        path("export", () -> get(() -> parameterMap(this::export))));
  }

  private Route replay(Identity caller) {
    return entity(
        Unmarshaller.entityToString(),
        body -> {
          Replays.Request request;
          try {
            request = JSON.readValue(body, Replays.Request.class);
          } catch (JsonProcessingException e) {
            return error(
                StatusCodes.BAD_REQUEST,
                "the body must be JSON such as {\"sessions\": [\"…\"], \"host\": \"…\","
                    + " \"port\": 5432, \"database\": \"…\"}");
          }
          return onComplete(
              replays.authorise(caller, request),
              answer -> {
                if (answer.isFailure()) {
                  // Fail closed: a replay the journal does not show is not authorised.
                  return error(
                      StatusCodes.SERVICE_UNAVAILABLE,
                      "the journal cannot record the replay right now, so it is not authorised;"
                          + " try again once the journal is back");
                }
                if (answer.get() instanceof Replays.Authorised authorised) {
                  return json(
                      StatusCodes.CREATED,
                      Map.of(
                          "replay",
                          authorised.replay(),
                          "replayer",
                          Map.of("subject", caller.subject(), "issuer", caller.issuer())));
                }
                Replays.Refused refused = (Replays.Refused) answer.get();
                return error(
                    refused.forbidden() ? StatusCodes.FORBIDDEN : StatusCodes.BAD_REQUEST,
                    refused.message());
              });
        });
  }

  private Route authenticated(Function<Identity, Route> inner) {
    return optionalHeaderValueByName(
        "Authorization",
        header -> {
          Optional<String> token =
              header
                  .filter(value -> value.regionMatches(true, 0, "Bearer ", 0, 7))
                  .map(value -> value.substring(7).strip());
          if (token.isEmpty()) {
            return unauthorized("send the approver's OIDC token as Authorization: Bearer <token>");
          }
          if (tokens.isEmpty()) {
            return unauthorized(
                "this gateway trusts no OIDC issuer, so nobody can prove who approves;"
                    + " configure portcullis.client-authentication.oidc.issuers");
          }
          CompletionStage<LoginOutcome> outcome =
              CompletableFuture.supplyAsync(() -> tokens.get().verifyBearer(token.get()), blocking);
          return onSuccess(
              outcome,
              verified -> {
                if (verified instanceof LoginOutcome.Authenticated authenticated) {
                  return inner.apply(authenticated.identity());
                }
                return unauthorized(((LoginOutcome.Rejected) verified).reason());
              });
        });
  }

  /** The session ends with 57P01 and its journal records who ended it and why. */
  private Route endSession(Identity caller, String sessionId) {
    if (caller.groups().stream().noneMatch(operatorGroups::contains)) {
      return error(
          StatusCodes.FORBIDDEN,
          "ending a session needs one of the groups "
              + new TreeSet<>(operatorGroups)
              + " (portcullis.admin.operator-groups)");
    }
    return entity(
        Unmarshaller.entityToString(),
        body -> {
          String reason;
          try {
            reason = reason(body).orElse("no reason given");
          } catch (JsonProcessingException e) {
            return error(
                StatusCodes.BAD_REQUEST, "the body must be JSON such as {\"reason\": \"…\"}");
          }
          String why = "ended by " + caller.subject() + " (" + caller.issuer() + "): " + reason;
          return onSuccess(
              sessions.end(sessionId, why),
              outcome ->
                  switch (outcome) {
                    case ENDED -> json(StatusCodes.OK, Map.of("session", sessionId, "ended", true));
                    case NO_SUCH_SESSION ->
                        error(StatusCodes.NOT_FOUND, "no node has an open session " + sessionId);
                    case UNKNOWN ->
                        error(
                            StatusCodes.SERVICE_UNAVAILABLE,
                            "not every gateway node answered, and none that did has session "
                                + sessionId
                                + "; try again");
                  });
        });
  }

  private Route auditor(Identity caller, Supplier<Route> inner) {
    if (caller.groups().stream().anyMatch(auditorGroups::contains)) {
      return inner.get();
    }
    return error(
        StatusCodes.FORBIDDEN,
        "reading the audit trail needs one of the groups "
            + new TreeSet<>(auditorGroups)
            + " (portcullis.admin.auditor-groups)");
  }

  private Route sessions(Map<String, String> parameters) {
    SessionQuery query;
    try {
      known(parameters, SESSION_PARAMETERS);
      query =
          new SessionQuery(
              Optional.ofNullable(parameters.get("user")),
              range(parameters),
              Optional.ofNullable(parameters.get("target")),
              Optional.ofNullable(parameters.get("table")),
              Optional.ofNullable(parameters.get("decision")),
              Optional.ofNullable(parameters.get("approval")),
              Optional.ofNullable(parameters.get("client")),
              Optional.ofNullable(parameters.get("sqlstate")),
              limit(parameters.getOrDefault("limit", Integer.toString(DEFAULT_LIMIT))));
    } catch (IllegalArgumentException e) {
      return error(StatusCodes.BAD_REQUEST, e.getMessage());
    }
    return onSuccess(blocking(() -> audit.sessions(query)), page -> json(StatusCodes.OK, page));
  }

  private Route timeline(String session) {
    return onSuccess(
        blocking(() -> audit.timeline(session)),
        events ->
            events.isEmpty()
                ? error(StatusCodes.NOT_FOUND, "no session " + session + " in the journal")
                : json(StatusCodes.OK, new Timeline(session, events)));
  }

  /** Typed, so that each event is written with its {@code type}. */
  private record Timeline(String session, List<SessionEvent> events) {}

  private Route export(Map<String, String> parameters) {
    TimeRange range;
    StatementExport.Format format;
    try {
      known(parameters, EXPORT_PARAMETERS);
      if (!parameters.containsKey("since")) {
        throw new IllegalArgumentException("give since, e.g. since=2026-11-01");
      }
      range = range(parameters);
      format = StatementExport.Format.parse(parameters.getOrDefault("format", "jsonl"));
    } catch (IllegalArgumentException e) {
      return error(StatusCodes.BAD_REQUEST, e.getMessage());
    }
    Source<ByteString, NotUsed> lines =
        Source.unfoldResource(
            () -> audit.export(range, format),
            export -> Optional.ofNullable(export.next(EXPORT_CHUNK)).map(ByteString::fromString),
            StatementExport::close);
    ContentType type =
        format == StatementExport.Format.CSV
            ? MediaTypes.TEXT_CSV.toContentType(HttpCharsets.UTF_8)
            : MediaTypes.applicationWithFixedCharset("x-ndjson", HttpCharsets.UTF_8)
                .toContentType();
    return complete(HttpResponse.create().withEntity(HttpEntities.create(type, lines)));
  }

  private static void known(Map<String, String> parameters, Set<String> known) {
    for (String name : parameters.keySet()) {
      if (!known.contains(name)) {
        throw new IllegalArgumentException(
            "unknown parameter '" + name + "'; use " + String.join(", ", new TreeSet<>(known)));
      }
    }
  }

  private static TimeRange range(Map<String, String> parameters) {
    return TimeRange.parse(
        Optional.ofNullable(parameters.get("since")), Optional.ofNullable(parameters.get("until")));
  }

  private static int limit(String text) {
    try {
      return Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("limit '" + text + "' is not a number");
    }
  }

  private <T> CompletionStage<T> blocking(Callable<T> read) {
    return CompletableFuture.supplyAsync(
        () -> {
          try {
            return read.call();
          } catch (Exception e) {
            throw new CompletionException(e);
          }
        },
        blocking);
  }

  private Route list(Identity caller, Optional<String> status) {
    Optional<ApprovalStatus> wanted;
    String name = status.orElse("pending").toLowerCase(Locale.ROOT);
    if (name.equals("all")) {
      wanted = Optional.empty();
    } else {
      try {
        wanted = Optional.of(ApprovalStatus.valueOf(name.toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        return error(
            StatusCodes.BAD_REQUEST,
            "unknown status '"
                + name
                + "'; use pending, approved, denied, expired, executed or all");
      }
    }
    List<ApprovalView> visible =
        approvals.list(wanted).stream().filter(view -> mayView(caller, view)).toList();
    return json(StatusCodes.OK, Map.of("approvals", visible));
  }

  private Route show(Identity caller, ApprovalId id) {
    return onSuccess(
        approvals.get(id),
        answer -> {
          if (answer instanceof Approval.Found found && !mayView(caller, found.approval())) {
            // Not told apart from a missing approval: its existence is itself information.
            return error(StatusCodes.NOT_FOUND, "no approval " + id + " that you may see");
          }
          return answer(answer);
        });
  }

  private Route decide(Identity caller, String rawId, boolean approve) {
    return withId(
        rawId,
        id ->
            entity(
                Unmarshaller.entityToString(),
                body -> {
                  Optional<String> reason;
                  try {
                    reason = reason(body);
                  } catch (JsonProcessingException e) {
                    return error(
                        StatusCodes.BAD_REQUEST,
                        "the body must be JSON such as {\"reason\": \"…\"}");
                  }
                  return onSuccess(
                      approvals.decide(id, caller, approve, reason.orElse("")), this::answer);
                }));
  }

  private static Optional<String> reason(String body) throws JsonProcessingException {
    if (body.isBlank()) {
      return Optional.empty();
    }
    JsonNode reason = JSON.readTree(body).path("reason");
    return reason.isTextual() ? Optional.of(reason.asText()) : Optional.empty();
  }

  /** Approvers see the requests they could decide; anyone sees their own. */
  private static boolean mayView(Identity caller, ApprovalView view) {
    boolean requester =
        view.requester().subject().equals(caller.subject())
            && view.requester().issuer().equals(caller.issuer());
    return requester || caller.groups().stream().anyMatch(view.approverGroups()::contains);
  }

  private Route withId(String raw, Function<ApprovalId, Route> inner) {
    return ApprovalId.parse(raw)
        .map(inner)
        .orElseGet(
            () ->
                error(
                    StatusCodes.NOT_FOUND,
                    "'"
                        + raw
                        + "' is not an approval id (a- and 12 hex digits, e.g. a-3f9c01d2e4b7)"));
  }

  private Route answer(Approval.Answer answer) {
    if (answer instanceof Approval.Found found) {
      return json(StatusCodes.OK, found.approval());
    }
    Approval.Rejected rejected = (Approval.Rejected) answer;
    StatusCode status =
        switch (rejected.problem()) {
          case NOT_FOUND -> StatusCodes.NOT_FOUND;
          case FORBIDDEN -> StatusCodes.FORBIDDEN;
          case CONFLICT -> StatusCodes.CONFLICT;
          case INVALID -> StatusCodes.BAD_REQUEST;
        };
    return error(status, rejected.message());
  }

  private Route unauthorized(String reason) {
    return respondWithHeader(
        RawHeader.create(
            "WWW-Authenticate",
            "Bearer error=\"invalid_token\", error_description=\""
                + reason.replace("\"", "'")
                + "\""),
        () -> error(StatusCodes.UNAUTHORIZED, reason));
  }

  private Route error(StatusCode status, String message) {
    return json(status, Map.of("error", message));
  }

  private Route json(StatusCode status, Object body) {
    try {
      return complete(
          HttpResponse.create()
              .withStatus(status)
              .withEntity(ContentTypes.APPLICATION_JSON, JSON.writeValueAsBytes(body)));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the response as JSON", e);
    }
  }
}
