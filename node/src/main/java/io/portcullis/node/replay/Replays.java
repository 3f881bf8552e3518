package io.portcullis.node.replay;

import io.portcullis.node.config.TargetSettings;
import io.portcullis.persistence.audit.Replay;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.policy.identity.Identity;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;

/**
 * The gateway's side of {@code portcullis replay}: whether a caller may replay sessions into a
 * sandbox, decided here, where the token is verified against the gateway's own issuers (a CLI could
 * be given a configuration that trusts any key); and the journal's record of it, written before the
 * answer, so that no replay is authorised that the journal does not show.
 */
public final class Replays {

  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);

  /** What a replayer asks to do. */
  public record Request(
      List<String> sessions,
      String host,
      int port,
      String database,
      String user,
      boolean force,
      boolean commit) {
    public Request {
      sessions = sessions == null ? List.of() : List.copyOf(sessions);
    }
  }

  public sealed interface Answer permits Authorised, Refused {}

  /** The replay may run; the journal holds it as {@code Replay|<replay>}. */
  public record Authorised(String replay, Identity replayer) implements Answer {}

  /**
   * @param forbidden the caller may not do this (otherwise the request itself is wrong)
   */
  public record Refused(boolean forbidden, String message) implements Answer {}

  private final ClusterSharding sharding;
  private final Set<String> groups;
  private final Collection<TargetSettings> targets;

  private Replays(
      ClusterSharding sharding, Set<String> groups, Collection<TargetSettings> targets) {
    this.sharding = sharding;
    this.groups = Set.copyOf(groups);
    this.targets = List.copyOf(targets);
  }

  /**
   * @param groups the groups whose members may replay
   * @param targets the gateway's targets, which a replay may not write to without {@code force}
   */
  public static Replays start(
      ActorSystem<?> system, Collection<String> groups, Collection<TargetSettings> targets) {
    ClusterSharding sharding = ClusterSharding.get(system);
    sharding.init(Entity.of(Replay.TYPE_KEY, context -> Replay.create(context.getEntityId())));
    return new Replays(sharding, new TreeSet<>(groups), targets);
  }

  /** Decides, and records an authorised replay; fails when the journal cannot take the record. */
  public CompletionStage<Answer> authorise(Identity caller, Request request) {
    Optional<Refused> refused = refusal(caller, request);
    if (refused.isPresent()) {
      return CompletableFuture.completedFuture(refused.get());
    }
    String id = "r-" + UUID.randomUUID();
    Sandbox sandbox = new Sandbox(request.host(), request.port(), request.database(), "");
    Replay.ReplayRecorded record =
        new Replay.ReplayRecorded(
            SessionEvent.SCHEMA_VERSION,
            Instant.now(),
            id,
            caller.subject(),
            caller.issuer(),
            List.copyOf(new TreeSet<>(caller.groups())),
            request.sessions(),
            sandbox.location(),
            request.user() == null ? "" : request.user(),
            request.force(),
            request.commit());
    return sharding
        .entityRefFor(Replay.TYPE_KEY, id)
        .<Done>ask(replyTo -> new Replay.Record(record, replyTo), WRITE_TIMEOUT)
        .thenApply(done -> new Authorised(id, caller));
  }

  private Optional<Refused> refusal(Identity caller, Request request) {
    if (caller.groups().stream().noneMatch(groups::contains)) {
      return Optional.of(
          new Refused(
              true,
              caller.subject()
                  + " may not replay sessions: that needs membership of "
                  + String.join(" or ", groups)));
    }
    if (request.sessions().isEmpty()
        || request.host() == null
        || request.database() == null
        || request.port() <= 0) {
      return Optional.of(
          new Refused(false, "name the sessions and the sandbox's host, port and database"));
    }
    if (request.force()) {
      return Optional.empty();
    }
    return new Sandbox(request.host(), request.port(), request.database(), "")
        .protectedBy(targets)
        .map(reason -> new Refused(true, reason));
  }
}
