package io.portcullis.node.pipeline;

import io.portcullis.node.policy.Judgement;
import io.portcullis.node.policy.SessionPolicy;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.BackendMessage.ParameterStatus;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.FrontendMessage;
import java.util.ArrayDeque;
import java.util.Deque;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * Checks every statement-bearing client message against the session's policy before it goes
 * upstream. A refused statement is replaced by text PostgreSQL cannot parse, so that the server
 * fails it in exactly the way it fails any statement (transaction aborted, extended batch skipped
 * to Sync, no named statement created), and the error coming back for it is replaced by the
 * policy's error. Both directions pass through this one stage so that it can match those errors to
 * the refusals in order, and follow the settings the upstream reports.
 *
 * <pre>
 * client → in(requests) → out(requests) → upstream
 * client ← out(responses) ← in(responses) ← upstream
 * </pre>
 */
public final class PolicyStage
    extends GraphStage<
        BidiShape<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage>> {

  private final Inlet<FrontendMessage> requestsIn = Inlet.create("policy.requests.in");
  private final Outlet<FrontendMessage> requestsOut = Outlet.create("policy.requests.out");
  private final Inlet<BackendMessage> responsesIn = Inlet.create("policy.responses.in");
  private final Outlet<BackendMessage> responsesOut = Outlet.create("policy.responses.out");
  private final BidiShape<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage> shape =
      new BidiShape<>(requestsIn, requestsOut, responsesIn, responsesOut);

  private final SessionPolicy policy;

  public PolicyStage(SessionPolicy policy) {
    this.policy = policy;
  }

  @Override
  public BidiShape<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage> shape() {
    return shape;
  }

  /** A refusal whose replacement was sent before the {@code syncPoint}-th ReadyForQuery. */
  private record Refusal(long syncPoint, ErrorResponse error) {}

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new GraphStageLogic(shape) {
      private final Deque<Refusal> refusals = new ArrayDeque<>();
      private long syncPointsSent;
      private long readyReceived;

      {
        setHandler(
            requestsIn,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                FrontendMessage message = grab(requestsIn);
                Judgement judgement = policy.judge(message);
                if (judgement instanceof Judgement.Refuse refuse) {
                  refusals.add(new Refusal(syncPointsSent, refuse.error()));
                  message = refuse.replacement();
                }
                if (endsBatch(message)) {
                  syncPointsSent++;
                }
                push(requestsOut, message);
              }

              @Override
              public void onUpstreamFinish() {
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
                push(responsesOut, response(grab(responsesIn)));
              }

              @Override
              public void onUpstreamFinish() {
                complete(responsesOut);
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
                pull(responsesIn);
              }

              @Override
              public void onDownstreamFinish(Throwable cause) {
                cancel(responsesIn, cause);
              }
            });
      }

      private BackendMessage response(BackendMessage message) {
        if (message instanceof ReadyForQuery) {
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
