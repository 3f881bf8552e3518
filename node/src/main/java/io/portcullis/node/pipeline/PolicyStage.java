package io.portcullis.node.pipeline;

import io.portcullis.node.audit.SessionMdc;
import io.portcullis.node.audit.SessionRecorder;
import io.portcullis.node.metrics.GatewayMetrics;
import io.portcullis.node.policy.Judgement;
import io.portcullis.node.policy.RowLimits;
import io.portcullis.node.policy.SessionPolicy;
import io.portcullis.persistence.approval.Approval;
import io.portcullis.persistence.approval.ApprovalId;
import io.portcullis.persistence.approval.ApprovalRequest;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.policy.rules.ApprovalTerms;
import io.portcullis.policy.rules.Decision;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.BackendMessage.ParameterStatus;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.WireMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checks every statement-bearing client message against the session's policy before it goes
 * upstream. A refused statement is replaced by text PostgreSQL cannot parse, so that the server
 * fails it in exactly the way it fails any statement (transaction aborted, extended batch skipped
 * to Sync, no named statement created), and the error coming back for it is replaced by the
 * policy's error. Both directions pass through this one stage so that it can match those errors to
 * the refusals in order, follow the settings the upstream reports, tell the client that a statement
 * is held for approval, and cut results at the {@code max-rows} of the rules that allowed them
 * ({@link RowLimits}).
 *
 * <p>A held statement stops the client direction (the session's later messages wait behind it, as
 * they would behind a long-running statement) while the approval entity decides; results of earlier
 * statements keep flowing to the client.
 *
 * <pre>
 * client → in(requests) → out(requests) → upstream
 * client ← out(responses) ← in(responses) ← upstream
 * </pre>
 */
public final class PolicyStage
    extends GraphStage<
        BidiShape<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage>> {

  private static final Logger log = LoggerFactory.getLogger(PolicyStage.class);

  /** Extra time given to the entity's own expiry before a waiting session stops asking. */
  private static final Duration EXPIRY_MARGIN = Duration.ofSeconds(5);

  private static final Duration WATCH_RENEWAL = Duration.ofSeconds(5);

  /**
   * Chunks of a COPY's data being journaled while the copy goes on. The copy's end waits for all of
   * them, so this bounds only the memory they hold and how far the copy runs ahead of its journal.
   */
  private static final int COPY_CHUNKS_IN_FLIGHT = 4;

  private final Inlet<FrontendMessage> requestsIn = Inlet.create("policy.requests.in");
  private final Outlet<FrontendMessage> requestsOut = Outlet.create("policy.requests.out");
  private final Inlet<BackendMessage> responsesIn = Inlet.create("policy.responses.in");
  private final Outlet<BackendMessage> responsesOut = Outlet.create("policy.responses.out");
  private final BidiShape<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage> shape =
      new BidiShape<>(requestsIn, requestsOut, responsesIn, responsesOut);

  private final SessionPolicy policy;
  private final SessionRecorder recorder;
  private final GatewayMetrics metrics;

  public PolicyStage(SessionPolicy policy, SessionRecorder recorder, GatewayMetrics metrics) {
    this.policy = policy;
    this.recorder = recorder;
    this.metrics = metrics;
  }

  @Override
  public BidiShape<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage> shape() {
    return shape;
  }

  /** A refusal whose replacement was sent before the {@code syncPoint}-th ReadyForQuery. */
  private record Refusal(long syncPoint, ErrorResponse error) {}

  /** A judged message whose journal entries were written, or could not be. */
  private record Journaled(FrontendMessage message, Judgement judgement, Throwable failure) {}

  /**
   * A read sent before the {@code syncPoint}-th ReadyForQuery whose entries were written, or not.
   */
  private record ReadJournaled(long syncPoint, Throwable failure) {}

  /** A batch with a statement sent upstream at {@code nanoTime}, before its first response. */
  private record Unanswered(long syncPoint, long nanoTime) {}

  /** A pending approval request the session waits for. */
  private record Watched(ApprovalId id, Instant expiresAt) {}

  /**
   * A statement waiting for approval since {@code since} (a nanoTime), and what to send instead if
   * it is not given.
   */
  private record Held(FrontendMessage message, Judgement.Hold hold, long since) {
    ApprovalRequest request() {
      return hold.request();
    }
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new GraphStageLogic(shape) {
      private final Deque<Refusal> refusals = new ArrayDeque<>();
      private final Deque<BackendMessage> toClient = new ArrayDeque<>();
      private final RowLimits rowLimits = new RowLimits();
      private final Deque<Unanswered> awaitingFirstResponse = new ArrayDeque<>();
      private long syncPointsSent;

      /** Whether messages were sent upstream after the last one that ends a batch. */
      private boolean batchOpen;

      private long readyReceived;
      private long readyArrived;
      private boolean responsesFinished;
      private Held held;
      private boolean heldAnnounced;
      private AsyncCallback<Approval.Outcome> outcomes;
      private AsyncCallback<Watched> decided;
      private AsyncCallback<Watched> unanswered;
      private AsyncCallback<Throwable> approvalFailures;
      private AsyncCallback<Journaled> journaled;
      private AsyncCallback<ReadJournaled> readJournaled;
      private AsyncCallback<Optional<Throwable>> copyChunkJournaled;

      /** Chunks of COPY data sent on whose journal entries are not durable yet. */
      private int copyChunksInFlight;

      /** Whether a chunk of the current copy could not be journaled: the copy must fail. */
      private boolean copyChunkLost;

      /** A COPY message that waits for chunks in flight: one too many, or the copy's end. */
      private Journaled copyWaiting;

      /**
       * Reads sent upstream whose journal entries are not durable yet. Until they are, no response
       * goes to the client: the first one waits here and the upstream is not asked for more.
       */
      private int readsAwaitingJournal;

      private BackendMessage waitingResponse;

      /** Sync points of reads whose entries could not be written: their results are not shown. */
      private final Deque<Long> unjournaledReads = new ArrayDeque<>();

      /** The journal number of the statement being judged, held or sent; 0 if it has none. */
      private long statement;

      @Override
      public void preStart() {
        journaled = createAsyncCallback(this::onJournaled);
        readJournaled = createAsyncCallback(this::onReadJournaled);
        copyChunkJournaled = createAsyncCallback(this::onCopyChunkJournaled);
        outcomes = createAsyncCallback(this::onOutcome);
        decided = createAsyncCallback(this::claim);
        unanswered = createAsyncCallback(watched -> watch(watched.id(), watched.expiresAt()));
        approvalFailures = createAsyncCallback(this::onApprovalFailure);
      }

      {
        setHandler(
            requestsIn,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                FrontendMessage message = grab(requestsIn);
                policy.upstreamBusy(batchOpen || readyReceived != syncPointsSent);
                Judgement judgement = policy.judge(message);
                List<SessionEvent> entries = policy.takeJournalEntries();
                count(message, judgement, entries);
                statement =
                    !entries.isEmpty() && entries.get(0) instanceof SessionEvent.StatementReceived r
                        ? r.statement()
                        : 0;
                if (copyChunkLost && FrontendMessage.partOfCopy(message)) {
                  copyChunkLost = false;
                  refuse(policy.refusalReplacement(message), SessionPolicy.journalUnavailable());
                  return;
                }
                if (entries.isEmpty()) {
                  act(message, judgement);
                  return;
                }
                if (message instanceof WireMessage.CopyData) {
                  copyChunkJournaling(message, judgement, entries);
                  return;
                }
                if (judgement instanceof Judgement.ForwardRead read) {
                  readsAwaitingJournal++;
                  long syncPoint = syncPointsSent;
                  recorder
                      .append(entries)
                      .whenComplete(
                          (done, failure) ->
                              readJournaled.invoke(new ReadJournaled(syncPoint, failure)));
                  send(message, read.rowLimit());
                  return;
                }
                // Nothing of the statement goes upstream before the journal holds it.
                recorder
                    .append(entries)
                    .whenComplete(
                        (done, failure) ->
                            journaled.invoke(new Journaled(message, judgement, failure)));
              }

              @Override
              public void onUpstreamFinish() {
                // A held statement of a client that left is never sent.
                complete(requestsOut);
              }

              @Override
              public void onUpstreamFailure(Throwable failure) {
                fail(requestsOut, failure);
              }
            });
        setHandler(
            requestsOut,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                pull(requestsIn);
              }

              @Override
              public void onDownstreamFinish(Throwable cause) {
                cancel(requestsIn, cause);
              }
            });
        setHandler(
            responsesIn,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                BackendMessage message = grab(responsesIn);
                timeFirstResponse(message);
                if (readsAwaitingJournal > 0) {
                  waitingResponse = message;
                } else {
                  deliver(message);
                }
              }

              @Override
              public void onUpstreamFinish() {
                responsesFinished = true;
                if (toClient.isEmpty() && waitingResponse == null) {
                  complete(responsesOut);
                }
              }

              @Override
              public void onUpstreamFailure(Throwable failure) {
                fail(responsesOut, failure);
              }
            });
        setHandler(
            responsesOut,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                if (!toClient.isEmpty()) {
                  push(responsesOut, toClient.poll());
                  if (toClient.isEmpty() && responsesFinished) {
                    complete(responsesOut);
                  }
                } else if (!hasBeenPulled(responsesIn) && !isClosed(responsesIn)) {
                  pull(responsesIn);
                }
              }

              @Override
              public void onDownstreamFinish(Throwable cause) {
                cancel(responsesIn, cause);
              }
            });
      }

      /**
       * What the policy decided of each statement judged; a refusal without a decision is the
       * policy's failure. A reviewed statement prepared over the extended protocol is journaled
       * when parsed and again when bound, where approval is asked: it counts once, when bound.
       */
      private void count(FrontendMessage message, Judgement judgement, List<SessionEvent> entries) {
        for (SessionEvent entry : entries) {
          if (entry instanceof SessionEvent.PolicyDecided decided
              && !(message instanceof FrontendMessage.Parse
                  && decided.decision().equals(Decision.REVIEW.policyName()))) {
            metrics.statementDecided(decided.decision());
          }
        }
        if (entries.isEmpty() && judgement instanceof Judgement.Refuse) {
          metrics.statementDecided(GatewayMetrics.POLICY_ERROR);
        }
      }

      /**
       * The first response to a batch (the messages up to a Sync or a simple query) that carried a
       * statement ends the wait for it. Responses come back in the order of their batches.
       */
      private void timeFirstResponse(BackendMessage message) {
        Unanswered first = awaitingFirstResponse.peek();
        if (first != null && first.syncPoint() == readyArrived) {
          awaitingFirstResponse.poll();
          metrics.upstreamAnswered(System.nanoTime() - first.nanoTime());
        }
        if (message instanceof ReadyForQuery) {
          readyArrived++;
        }
      }

      private void act(FrontendMessage message, Judgement judgement) {
        if (judgement instanceof Judgement.Refuse refuse) {
          refuse(refuse.replacement(), refuse.error());
        } else if (judgement instanceof Judgement.Hold hold) {
          held = new Held(message, hold, System.nanoTime());
          heldAnnounced = false;
          await(policy.approvals().submit(hold.request()));
        } else {
          send(message, ((Judgement.Forward) judgement).rowLimit());
        }
      }

      private void deliver(BackendMessage message) {
        boolean unjournaled =
            !unjournaledReads.isEmpty() && unjournaledReads.peek() == readyReceived;
        RowLimits.Decision decision = rowLimits.response(message);
        if (unjournaled && message instanceof ReadyForQuery) {
          unjournaledReads.poll();
          toClient(SessionPolicy.journalUnavailable());
          toClient(response(message));
        } else if (unjournaled || decision == RowLimits.Drop.INSTANCE) {
          // Nothing goes to the client for this response, so its demand is still open.
          if (isAvailable(responsesOut) && !hasBeenPulled(responsesIn)) {
            pull(responsesIn);
          }
        } else if (decision instanceof RowLimits.Replace replace) {
          for (BackendMessage instead : replace.messages()) {
            toClient(instead);
          }
        } else {
          toClient(response(message));
        }
      }

      private void onReadJournaled(ReadJournaled result) {
        readsAwaitingJournal--;
        if (result.failure() != null) {
          SessionMdc.run(
              policy.sessionId(),
              () ->
                  log.warn(
                      "the audit journal did not take a read that was already sent ({}); its"
                          + " result is not shown",
                      result.failure().toString()));
          unjournaledReads.add(result.syncPoint());
        }
        if (readsAwaitingJournal == 0 && waitingResponse != null) {
          BackendMessage message = waitingResponse;
          waitingResponse = null;
          deliver(message);
          if (responsesFinished && toClient.isEmpty() && !isClosed(responsesOut)) {
            complete(responsesOut);
          }
        }
      }

      /**
       * A chunk of COPY data goes on while it is journaled, unless too many chunks are in flight;
       * the copy's end waits until all are durable (PostgreSQL keeps the rows only at CopyDone).
       */
      private void copyChunkJournaling(
          FrontendMessage message, Judgement judgement, List<SessionEvent> entries) {
        copyChunksInFlight++;
        recorder
            .append(entries)
            .whenComplete(
                (done, failure) -> copyChunkJournaled.invoke(Optional.ofNullable(failure)));
        if (copyChunksInFlight < COPY_CHUNKS_IN_FLIGHT) {
          act(message, judgement);
        } else {
          copyWaiting = new Journaled(message, judgement, null);
        }
      }

      private void onCopyChunkJournaled(Optional<Throwable> failure) {
        copyChunksInFlight--;
        if (failure.isPresent()) {
          SessionMdc.run(
              policy.sessionId(),
              () ->
                  log.warn(
                      "the audit journal did not take a chunk of COPY data ({}); the copy fails",
                      failure.get().toString()));
          copyChunkLost = true;
        }
        boolean end =
            copyWaiting != null && !(copyWaiting.message() instanceof WireMessage.CopyData);
        if (copyWaiting != null && (copyChunksInFlight == 0 || !end) && !isClosed(requestsOut)) {
          Journaled waiting = copyWaiting;
          copyWaiting = null;
          onJournaled(waiting);
        }
      }

      private void onJournaled(Journaled result) {
        if (isClosed(requestsOut)) {
          return;
        }
        if (FrontendMessage.partOfCopy(result.message()) && result.failure() == null) {
          if (copyChunksInFlight > 0 && !(result.message() instanceof WireMessage.CopyData)) {
            copyWaiting = result;
            return;
          }
          if (copyChunkLost) {
            copyChunkLost = false;
            refuse(policy.refusalReplacement(result.message()), SessionPolicy.journalUnavailable());
            return;
          }
        }
        if (result.failure() == null) {
          act(result.message(), result.judgement());
        } else {
          SessionMdc.run(
              policy.sessionId(),
              () ->
                  log.warn(
                      "the audit journal did not take a statement ({}); it is refused",
                      result.failure().toString()));
          refuse(policy.refusalReplacement(result.message()), SessionPolicy.journalUnavailable());
        }
      }

      private void send(FrontendMessage message, Optional<RowLimits.Limit> rowLimit) {
        if (message instanceof FrontendMessage.Query
            || message instanceof FrontendMessage.Bind
            || message instanceof FrontendMessage.FunctionCall) {
          recorder.forwarded(statement);
          if (awaitingFirstResponse.isEmpty()
              || awaitingFirstResponse.peekLast().syncPoint() != syncPointsSent) {
            awaitingFirstResponse.add(new Unanswered(syncPointsSent, System.nanoTime()));
          }
        }
        rowLimits.sent(message, rowLimit, syncPointsSent);
        if (endsBatch(message)) {
          batchOpen = false;
          syncPointsSent++;
        } else if (!FrontendMessage.partOfCopy(message)) {
          // A COPY's data belongs to the statement that started it, in whichever batch.
          batchOpen = true;
        }
        push(requestsOut, message);
      }

      private void refuse(FrontendMessage replacement, ErrorResponse error) {
        refusals.add(new Refusal(syncPointsSent, error));
        send(replacement, Optional.empty());
      }

      private void toClient(BackendMessage message) {
        if (toClient.isEmpty() && isAvailable(responsesOut)) {
          push(responsesOut, message);
        } else {
          toClient.add(message);
        }
      }

      private void await(CompletionStage<Approval.Outcome> outcome) {
        outcome.whenComplete(
            (result, failure) -> {
              if (failure != null) {
                approvalFailures.invoke(failure);
              } else {
                outcomes.invoke(result);
              }
            });
      }

      private void onOutcome(Approval.Outcome outcome) {
        if (held == null || isClosed(requestsOut)) {
          return;
        }
        ApprovalRequest request = held.request();
        if (outcome instanceof Approval.Cleared cleared) {
          cleared.grantUntil().ifPresent(until -> policy.granted(request, until));
          resolved(outcome, held.message(), Judgement.Forward.unlimited());
        } else if (outcome instanceof Approval.Refused refused) {
          resolved(
              outcome,
              held.message(),
              new Judgement.Refuse(
                  held.hold().replacement(), SessionPolicy.refused(request, refused)));
        } else {
          Approval.Pending pending = (Approval.Pending) outcome;
          if (request.terms().mode() == ApprovalTerms.Mode.RETRY) {
            release(held.hold().replacement(), SessionPolicy.awaitingApproval(request, pending));
          } else if (Instant.now().isAfter(pending.expiresAt().plus(EXPIRY_MARGIN))) {
            // The entity should have expired it by now; stop waiting rather than loop.
            onApprovalFailure(new IllegalStateException("approval outlived its expiry"));
          } else {
            if (!heldAnnounced) {
              heldAnnounced = true;
              toClient(SessionPolicy.held(request, pending));
            }
            watch(ApprovalId.parse(pending.approvalId()).orElseThrow(), pending.expiresAt());
          }
        }
      }

      /** The approval's outcome, and who decided it, is journaled before the statement goes on. */
      private void resolved(Approval.Outcome outcome, FrontendMessage message, Judgement then) {
        SessionEvent event = SessionPolicy.approvalResolved(held.request(), outcome);
        metrics.approvalWaited(System.nanoTime() - held.since());
        held = null;
        recorder
            .append(List.of(event))
            .whenComplete(
                (done, failure) -> journaled.invoke(new Journaled(message, then, failure)));
      }

      /**
       * Waits for the decision, then claims it. A watch ends after at most {@link #WATCH_RENEWAL}
       * and is followed by a claim all the same, which answers with the request's state and, while
       * it is pending, leads to a new watch: the approval entity may have moved to another node
       * (its node left or died) and forgotten this watcher.
       */
      private void watch(ApprovalId id, Instant expiresAt) {
        Duration untilExpiry = Duration.between(Instant.now(), expiresAt).plus(EXPIRY_MARGIN);
        policy
            .approvals()
            .watch(id, untilExpiry.compareTo(WATCH_RENEWAL) < 0 ? untilExpiry : WATCH_RENEWAL)
            .whenComplete((result, failure) -> decided.invoke(new Watched(id, expiresAt)));
      }

      /** A claim that gets no answer before the request expires is tried again after a watch. */
      private void claim(Watched watched) {
        if (held == null) {
          return;
        }
        policy
            .approvals()
            .claim(watched.id(), policy.sessionId())
            .whenComplete(
                (result, failure) -> {
                  if (failure == null) {
                    outcomes.invoke(result);
                  } else if (Instant.now().isBefore(watched.expiresAt())) {
                    unanswered.invoke(watched);
                  } else {
                    approvalFailures.invoke(failure);
                  }
                });
      }

      private void onApprovalFailure(Throwable failure) {
        if (held == null || isClosed(requestsOut)) {
          return;
        }
        SessionMdc.run(
            policy.sessionId(),
            () ->
                log.warn("approval of a held statement failed; the statement is refused", failure));
        metrics.approvalWaited(System.nanoTime() - held.since());
        release(held.hold().replacement(), SessionPolicy.approvalsUnavailable());
      }

      private void release(FrontendMessage replacement, ErrorResponse error) {
        held = null;
        refuse(replacement, error);
      }

      private BackendMessage response(BackendMessage message) {
        if (message instanceof ReadyForQuery ready) {
          policy.readyForQuery(ready.transactionStatus());
          // Refusals of this batch that PostgreSQL skipped (an earlier error) are done with.
          while (!refusals.isEmpty() && refusals.peek().syncPoint() <= readyReceived) {
            refusals.poll();
          }
          readyReceived++;
        } else if (message instanceof ParameterStatus status) {
          policy.parameterChanged(status.name(), status.value());
        } else if (message instanceof ErrorResponse error
            && policy.isRefusalError(error)
            && !refusals.isEmpty()) {
          return refusals.poll().error();
        }
        return message;
      }
    };
  }

  /** Messages after which PostgreSQL sends ReadyForQuery. */
  private static boolean endsBatch(FrontendMessage message) {
    return message instanceof FrontendMessage.Query
        || message == FrontendMessage.Sync.INSTANCE
        || message instanceof FrontendMessage.FunctionCall;
  }
}
