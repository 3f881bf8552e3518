package io.portcullis.persistence.approval;

import io.portcullis.persistence.CborSerializable;
import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.rules.ApprovalTerms;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.cluster.sharding.typed.javadsl.EntityTypeKey;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.apache.pekko.persistence.typed.RecoveryCompleted;
import org.apache.pekko.persistence.typed.javadsl.CommandHandler;
import org.apache.pekko.persistence.typed.javadsl.Effect;
import org.apache.pekko.persistence.typed.javadsl.EventHandler;
import org.apache.pekko.persistence.typed.javadsl.EventSourcedBehavior;
import org.apache.pekko.persistence.typed.javadsl.SignalHandler;

/**
 * The sharded, event-sourced entity that decides one identity's requests to run one statement (or
 * to be granted one rule's access): sessions submit and wait, approvers approve or deny, and what
 * happened is the entity's journal. Being sharded, it is reached from any node; being event
 * sourced, a pending request outlives a gateway restart.
 */
public final class Approval
    extends EventSourcedBehavior<Approval.Command, ApprovalEvent, ApprovalState> {

  public static final EntityTypeKey<Command> TYPE_KEY =
      EntityTypeKey.create(Command.class, "Approval");

  /** The tag of every approval event, by which the read side finds them. */
  public static final String TAG = "approval";

  public sealed interface Command extends CborSerializable {}

  /**
   * A session asks to run a statement: answered Pending (a new or still open request), Cleared
   * (approved: run it; a statement approval is used up by this), or Refused.
   */
  public record Submit(ApprovalRequest request, ActorRef<Outcome> replyTo) implements Command {}

  /**
   * A session that waited for {@code id} asks what became of it: Cleared (and a statement approval
   * is used up), Refused, or still Pending.
   */
  public record Claim(ApprovalId id, String sessionId, ActorRef<Outcome> replyTo)
      implements Command {}

  public record Decide(
      ApprovalId id, Identity approver, boolean approve, String reason, ActorRef<Answer> replyTo)
      implements Command {}

  public record Get(ApprovalId id, ActorRef<Answer> replyTo) implements Command {}

  /** Answered once the request is approved, denied or expired (at once if it already is). */
  public record Watch(ApprovalId id, ActorRef<Decided> replyTo) implements Command {}

  private record Expire(int round) implements Command {}

  public sealed interface Outcome extends CborSerializable {
    String approvalId();
  }

  public record Pending(String approvalId, Instant expiresAt) implements Outcome {}

  public record Cleared(String approvalId, List<Identity> approvers, Optional<Instant> grantUntil)
      implements Outcome {}

  /**
   * @param reason the approver's reason for a denial, or why the request expired
   */
  public record Refused(String approvalId, ApprovalStatus status, String reason, List<Identity> by)
      implements Outcome {}

  public record Decided(String approvalId) implements CborSerializable {}

  public sealed interface Answer extends CborSerializable {}

  public record Found(ApprovalView approval) implements Answer {}

  public record Rejected(Problem problem, String message) implements Answer {}

  public enum Problem {
    NOT_FOUND,
    FORBIDDEN,
    CONFLICT,
    INVALID
  }

  private final String entityId;
  private final TimerScheduler<Command> timers;
  private final Consumer<ApprovalView> announcer;
  private final Map<Integer, List<ActorRef<Decided>>> watchers = new HashMap<>();

  /**
   * @param announcer told of every new request once it is journaled (webhooks); must not block
   */
  public static Behavior<Command> create(String entityId, Consumer<ApprovalView> announcer) {
    return Behaviors.setup(
        context -> Behaviors.withTimers(timers -> new Approval(entityId, timers, announcer)));
  }

  private Approval(
      String entityId, TimerScheduler<Command> timers, Consumer<ApprovalView> announcer) {
    super(PersistenceId.of(TYPE_KEY.name(), entityId));
    this.entityId = entityId;
    this.timers = timers;
    this.announcer = announcer;
  }

  @Override
  public ApprovalState emptyState() {
    return ApprovalState.empty(entityId);
  }

  @Override
  public Set<String> tagsFor(ApprovalEvent event) {
    return Set.of(TAG);
  }

  @Override
  public SignalHandler<ApprovalState> signalHandler() {
    return newSignalHandlerBuilder()
        .onSignal(RecoveryCompleted.instance(), state -> state.latest().ifPresent(this::armExpiry))
        .build();
  }

  @Override
  public EventHandler<ApprovalState, ApprovalEvent> eventHandler() {
    return newEventHandlerBuilder().forAnyState().onAnyEvent(ApprovalState::apply);
  }

  @Override
  public CommandHandler<Command, ApprovalEvent, ApprovalState> commandHandler() {
    return newCommandHandlerBuilder()
        .forAnyState()
        .onCommand(Submit.class, this::submit)
        .onCommand(Claim.class, this::claim)
        .onCommand(Decide.class, this::decide)
        .onCommand(Get.class, this::get)
        .onCommand(Watch.class, this::watch)
        .onCommand(Expire.class, this::expire)
        .build();
  }

  private Effect<ApprovalEvent, ApprovalState> submit(ApprovalState state, Submit submit) {
    Instant now = Instant.now();
    Optional<ApprovalRound> latest = state.latest();
    ApprovalStatus status = latest.map(round -> round.status(now)).orElse(ApprovalStatus.EXPIRED);
    if (status == ApprovalStatus.PENDING) {
      ApprovalRound round = latest.get();
      submit.replyTo().tell(new Pending(round.id(entityId).toString(), round.expiresAt()));
      return Effect().none();
    }
    if (status == ApprovalStatus.APPROVED) {
      return clear(latest.get(), submit.request().sessionId(), now, submit.replyTo());
    }
    List<ApprovalEvent> events = new ArrayList<>(2);
    latest.ifPresent(round -> closeIfOverdue(round, now).ifPresent(events::add));
    int number = latest.map(round -> round.number() + 1).orElse(1);
    Instant expiresAt = now.plus(submit.request().terms().timeout());
    events.add(new ApprovalEvent.Requested(number, submit.request(), now, expiresAt));
    return Effect()
        .persist(events)
        .thenRun(
            updated -> {
              ApprovalRound round = updated.latest().orElseThrow();
              armExpiry(round);
              announcer.accept(ApprovalView.of(entityId, round, now));
            })
        .thenReply(
            submit.replyTo(),
            updated -> new Pending(new ApprovalId(entityId, number).toString(), expiresAt));
  }

  private Effect<ApprovalEvent, ApprovalState> claim(ApprovalState state, Claim claim) {
    Optional<ApprovalRound> found = state.round(claim.id().round());
    if (found.isEmpty()) {
      claim
          .replyTo()
          .tell(
              new Refused(
                  claim.id().toString(),
                  ApprovalStatus.EXPIRED,
                  "the gateway has no record of this approval",
                  List.of()));
      return Effect().none();
    }
    ApprovalRound round = found.get();
    Instant now = Instant.now();
    ApprovalStatus status = round.status(now);
    String id = claim.id().toString();
    if (status == ApprovalStatus.PENDING) {
      claim.replyTo().tell(new Pending(id, round.expiresAt()));
    } else if (status == ApprovalStatus.APPROVED) {
      return clear(round, claim.sessionId(), now, claim.replyTo());
    } else if (status == ApprovalStatus.DENIED) {
      ApprovalRound.Decision denial = round.denial().orElseThrow();
      claim.replyTo().tell(new Refused(id, status, denial.reason(), List.of(denial.approver())));
    } else if (status == ApprovalStatus.EXECUTED
        && round.executedBy().equals(Optional.of(claim.sessionId()))) {
      // The same session claims again: the answer to its claim was lost (the entity was moving
      // to another node), and its statement has not run yet.
      claim.replyTo().tell(cleared(round));
    } else if (status == ApprovalStatus.EXECUTED) {
      claim
          .replyTo()
          .tell(
              new Refused(
                  id, status, "the approved statement has already been run once", List.of()));
    } else {
      String reason =
          round.approvedAt().isPresent()
              ? "it was approved but not run in time"
              : "no approver decided within "
                  + ApprovalTerms.describe(round.request().terms().timeout());
      Refused refused = new Refused(id, status, reason, round.approvers());
      Optional<ApprovalEvent> overdue = closeIfOverdue(round, now);
      if (overdue.isPresent()) {
        return Effect()
            .persist(overdue.get())
            .thenRun(updated -> notifyWatchers(round.number()))
            .thenReply(claim.replyTo(), updated -> refused);
      }
      claim.replyTo().tell(refused);
    }
    return Effect().none();
  }

  /** An approved request lets its statement run: once, or as often as a grant's window lasts. */
  private Effect<ApprovalEvent, ApprovalState> clear(
      ApprovalRound round, String sessionId, Instant now, ActorRef<Outcome> replyTo) {
    Cleared cleared = cleared(round);
    if (round.request().terms().grant().isPresent()) {
      replyTo.tell(cleared);
      return Effect().none();
    }
    return Effect()
        .persist(new ApprovalEvent.Executed(round.number(), sessionId, now))
        .thenReply(replyTo, updated -> cleared);
  }

  private Cleared cleared(ApprovalRound round) {
    return new Cleared(
        round.id(entityId).toString(),
        round.approvers(),
        round.request().terms().grant().flatMap(grant -> round.approvalValidUntil()));
  }

  private Effect<ApprovalEvent, ApprovalState> decide(ApprovalState state, Decide decide) {
    Optional<ApprovalRound> found = state.round(decide.id().round());
    if (found.isEmpty()) {
      return reject(decide.replyTo(), Problem.NOT_FOUND, "no approval " + decide.id());
    }
    ApprovalRound round = found.get();
    Instant now = Instant.now();
    ApprovalStatus status = round.status(now);
    if (status != ApprovalStatus.PENDING) {
      String message =
          "approval " + decide.id() + " is " + status.apiName() + " and can no longer be decided";
      Optional<ApprovalEvent> overdue = closeIfOverdue(round, now);
      if (overdue.isPresent()) {
        return Effect()
            .persist(overdue.get())
            .thenRun(updated -> notifyWatchers(round.number()))
            .thenReply(decide.replyTo(), updated -> new Rejected(Problem.CONFLICT, message));
      }
      return reject(decide.replyTo(), Problem.CONFLICT, message);
    }
    Identity requester = round.request().requester();
    if (ApprovalRound.samePerson(requester, decide.approver())) {
      return reject(
          decide.replyTo(),
          Problem.FORBIDDEN,
          "nobody approves or denies their own request: "
              + decide.id()
              + " was requested by "
              + requester.subject());
    }
    Set<String> approverGroups = round.request().terms().approvers();
    if (decide.approver().groups().stream().noneMatch(approverGroups::contains)) {
      return reject(
          decide.replyTo(),
          Problem.FORBIDDEN,
          decide.approver().subject()
              + " is not a member of the groups that decide "
              + decide.id()
              + ": "
              + String.join(", ", approverGroups.stream().sorted().toList()));
    }
    if (round.approvedBy(decide.approver())) {
      return reject(
          decide.replyTo(),
          Problem.CONFLICT,
          decide.approver().subject()
              + " has already approved "
              + decide.id()
              + "; it needs "
              + round.request().terms().required()
              + " different approvers");
    }
    String reason = decide.reason() == null ? "" : decide.reason().strip();
    if (!decide.approve() && reason.isEmpty()) {
      return reject(decide.replyTo(), Problem.INVALID, "a reason is required to deny");
    }
    ApprovalEvent event =
        decide.approve()
            ? new ApprovalEvent.Approved(round.number(), decide.approver(), reason, now)
            : new ApprovalEvent.Denied(round.number(), decide.approver(), reason, now);
    return Effect()
        .persist(event)
        .thenRun(
            updated -> {
              ApprovalRound after = updated.round(round.number()).orElseThrow();
              if (after.status(now) != ApprovalStatus.PENDING) {
                notifyWatchers(round.number());
              }
            })
        .thenReply(
            decide.replyTo(),
            updated ->
                new Found(
                    ApprovalView.of(entityId, updated.round(round.number()).orElseThrow(), now)));
  }

  private Effect<ApprovalEvent, ApprovalState> get(ApprovalState state, Get get) {
    Optional<ApprovalRound> round = state.round(get.id().round());
    if (round.isEmpty()) {
      return reject(get.replyTo(), Problem.NOT_FOUND, "no approval " + get.id());
    }
    get.replyTo().tell(new Found(ApprovalView.of(entityId, round.get(), Instant.now())));
    return Effect().none();
  }

  private Effect<ApprovalEvent, ApprovalState> watch(ApprovalState state, Watch watch) {
    Optional<ApprovalRound> round = state.round(watch.id().round());
    if (round.isEmpty() || round.get().status(Instant.now()) != ApprovalStatus.PENDING) {
      watch.replyTo().tell(new Decided(watch.id().toString()));
    } else {
      watchers
          .computeIfAbsent(watch.id().round(), number -> new ArrayList<>())
          .add(watch.replyTo());
    }
    return Effect().none();
  }

  private Effect<ApprovalEvent, ApprovalState> expire(ApprovalState state, Expire expire) {
    Optional<ApprovalEvent> overdue =
        state.round(expire.round()).flatMap(round -> closeIfOverdue(round, Instant.now()));
    if (overdue.isEmpty()) {
      return Effect().none();
    }
    return Effect().persist(overdue.get()).thenRun(updated -> notifyWatchers(expire.round()));
  }

  /** The Expired event a request needs when its time ran out before anyone wrote one. */
  private static Optional<ApprovalEvent> closeIfOverdue(ApprovalRound round, Instant now) {
    boolean overdue =
        round.expiredAt().isEmpty()
            && round.executedAt().isEmpty()
            && round.denial().isEmpty()
            && round.status(now) == ApprovalStatus.EXPIRED;
    return overdue ? Optional.of(new ApprovalEvent.Expired(round.number(), now)) : Optional.empty();
  }

  private void armExpiry(ApprovalRound round) {
    if (round.status(Instant.now()) == ApprovalStatus.PENDING) {
      Duration left = Duration.between(Instant.now(), round.expiresAt());
      timers.startSingleTimer(
          "expire-" + round.number(), new Expire(round.number()), left.plusMillis(1));
    }
  }

  private void notifyWatchers(int round) {
    List<ActorRef<Decided>> waiting = watchers.remove(round);
    if (waiting != null) {
      Decided decided = new Decided(new ApprovalId(entityId, round).toString());
      waiting.forEach(watcher -> watcher.tell(decided));
    }
  }

  private Effect<ApprovalEvent, ApprovalState> reject(
      ActorRef<Answer> replyTo, Problem problem, String message) {
    replyTo.tell(new Rejected(problem, message));
    return Effect().none();
  }
}
