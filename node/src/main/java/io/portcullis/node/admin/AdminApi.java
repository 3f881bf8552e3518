package io.portcullis.node.admin;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.portcullis.node.approval.Approvals;
import io.portcullis.node.replay.Replays;
import io.portcullis.persistence.approval.Approval;
import io.portcullis.persistence.approval.ApprovalId;
import io.portcullis.persistence.approval.ApprovalStatus;
import io.portcullis.persistence.approval.ApprovalView;
import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.identity.LoginOutcome;
import io.portcullis.policy.identity.OidcAuthenticator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.PathMatchers;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.http.javadsl.unmarshalling.Unmarshaller;

/**
 * The admin HTTP API's routes: approvers list, show, approve and deny approval requests, and
 * replayers have a replay authorised and journaled; each call authenticated by the caller's own
 * OIDC bearer token. Documented in {@code docs/admin-api.md}.
 */
public final class AdminApi extends AllDirectives {

  private static final ObjectMapper JSON =
      new ObjectMapper()
          .registerModule(new Jdk8Module())
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS);

  private final Approvals approvals;
  private final Replays replays;
  private final Optional<OidcAuthenticator> tokens;
  private final Executor blocking;

  /**
   * @param tokens verifies bearer tokens; without it (no OIDC issuer configured) every call is
   *     refused, since nobody could prove who approves
   * @param blocking where token verification runs (it may fetch the issuer's keys)
   */
  public AdminApi(
      Approvals approvals, Replays replays, Optional<OidcAuthenticator> tokens, Executor blocking) {
    this.approvals = approvals;
    this.replays = replays;
    this.tokens = tokens;
    this.blocking = blocking;
  }

  public Route routes() {
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
                        pathPrefix(
                            "approvals",
                            () ->
                                authenticated(
                                    caller ->
                                        concat(
                                            pathEndOrSingleSlash(
                                                () ->
                                                    get(
                                                        () ->
                                                            parameterOptional(
                                                                "status",
                                                                status -> list(caller, status)))),
                                            path(
                                                PathMatchers.segment(),
                                                id ->
                                                    get(
                                                        () ->
                                                            withId(
                                                                id, found -> show(caller, found)))),
                                            path(
                                                PathMatchers.segment().slash("approve"),
                                                id -> post(() -> decide(caller, id, true))),
                                            path(
                                                PathMatchers.segment().slash("deny"),
                                                id -> post(() -> decide(caller, id, false)))))))));
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
