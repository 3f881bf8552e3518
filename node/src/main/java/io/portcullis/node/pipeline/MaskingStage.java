package io.portcullis.node.pipeline;

import io.portcullis.node.masking.ColumnLineage;
import io.portcullis.node.masking.LineageSource;
import io.portcullis.node.masking.ResultMasker;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.FrontendMessage;
import java.util.List;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * Masks what the upstream returns before the client sees it ({@link ResultMasker}), one message at
 * a time. It watches the client's messages on their way up, to know which statement each result
 * belongs to. When a result has computed columns over protected tables, the stage asks the target
 * to plan the statement and holds that result (and so, by backpressure, the upstream) until the
 * answer is there.
 *
 * <pre>
 * policy → in(requests) → out(requests) → upstream
 * policy ← out(responses) ← in(responses) ← upstream
 * </pre>
 */
public final class MaskingStage
    extends GraphStage<
        BidiShape<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage>> {

  private final Inlet<FrontendMessage> requestsIn = Inlet.create("masking.requests.in");
  private final Outlet<FrontendMessage> requestsOut = Outlet.create("masking.requests.out");
  private final Inlet<BackendMessage> responsesIn = Inlet.create("masking.responses.in");
  private final Outlet<BackendMessage> responsesOut = Outlet.create("masking.responses.out");
  private final BidiShape<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage> shape =
      new BidiShape<>(requestsIn, requestsOut, responsesIn, responsesOut);

  private final ResultMasker masker;
  private final LineageSource lineages;

  public MaskingStage(ResultMasker masker, LineageSource lineages) {
    this.masker = masker;
    this.lineages = lineages;
  }

  @Override
  public BidiShape<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new GraphStageLogic(shape) {
      private BackendMessage waiting;
      private boolean responsesFinished;
      private AsyncCallback<List<ColumnLineage>> planned;

      @Override
      public void preStart() {
        planned = createAsyncCallback(this::onPlanned);
      }

      {
        setHandler(
            requestsIn,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                FrontendMessage message = grab(requestsIn);
                masker.onFrontend(message);
                push(requestsOut, message);
              }
            });
        setHandler(
            requestsOut,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                pull(requestsIn);
              }
            });
        setHandler(
            responsesIn,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                BackendMessage message = grab(responsesIn);
                var request = masker.lineageNeeded(message);
                if (request == null) {
                  push(responsesOut, masker.onBackend(message));
                  return;
                }
                waiting = message;
                lineages
                    .of(request.sql(), request.parameterCount())
                    .whenComplete(
                        (lineage, failure) -> planned.invoke(failure == null ? lineage : null));
              }

              @Override
              public void onUpstreamFinish() {
                if (waiting == null) {
                  completeStage();
                } else {
                  responsesFinished = true;
                }
              }
            });
        setHandler(
            responsesOut,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                pull(responsesIn);
              }
            });
      }

      private void onPlanned(List<ColumnLineage> lineage) {
        masker.lineageKnown(lineage);
        BackendMessage message = waiting;
        waiting = null;
        push(responsesOut, masker.onBackend(message));
        if (responsesFinished) {
          completeStage();
        }
      }
    };
  }
}
