package io.portcullis.node.pipeline;

import io.netty.channel.Channel;
import io.portcullis.node.audit.SessionMdc;
import io.portcullis.node.masking.MaskingException;
import io.portcullis.node.metrics.GatewayMetrics;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.FrontendMessage;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.japi.pf.PFBuilder;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Materializer;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a session's two streams once both sides are connected and authenticated:
 *
 * <pre>
 * client socket → auth → policy → masking (watches) → approval → upstream socket
 * upstream socket → masking → policy → client socket
 * </pre>
 *
 * The first stream ends at the client's Terminate or disconnect and then closes the upstream; the
 * second ends when the upstream closes and then closes the client, after telling it why if the
 * upstream went away on its own.
 */
public final class SessionPipeline {

  private static final Logger log = LoggerFactory.getLogger(SessionPipeline.class);

  private SessionPipeline() {}

  /**
   * @param greeting what completes the client's login (AuthenticationOk, ParameterStatus,
   *     BackendKeyData, ReadyForQuery), sent once the pipeline reads the client socket, so that the
   *     client's first statement cannot arrive before anything is there to read it
   * @param pending client messages that arrived before the pipeline started, sent first
   * @param dispatcher runs the streams on the event loop of the session's sockets
   * @param metrics counts the session as open while its streams run, and the errors it sends
   * @return completes when both directions have ended
   */
  public static CompletionStage<Done> run(
      String sessionId,
      Channel client,
      Channel upstream,
      List<BackendMessage> greeting,
      List<FrontendMessage> pending,
      SessionStages stages,
      Attributes dispatcher,
      Materializer materializer,
      GatewayMetrics metrics) {
    Source<FrontendMessage, NotUsed> fromClient =
        Source.fromGraph(new ChannelSource<>(client, FrontendMessage.class, "startup"));
    if (!pending.isEmpty()) {
      fromClient = Source.from(pending).concat(fromClient);
    }
    CompletableFuture<Done> toUpstreamEnded = new CompletableFuture<>();
    CompletableFuture<Done> toClientEnded = new CompletableFuture<>();
    Flow<FrontendMessage, FrontendMessage, NotUsed> beforePolicy =
        stages.auth().watchTermination((notUsed, done) -> ended(done, toUpstreamEnded));
    Flow<FrontendMessage, FrontendMessage, NotUsed> afterPolicy =
        stages.approval().takeWhile(message -> message != FrontendMessage.Terminate.INSTANCE, true);
    Flow<BackendMessage, BackendMessage, NotUsed> toClient =
        Flow.<BackendMessage>create()
            .recover(
                new PFBuilder<Throwable, BackendMessage>()
                    .match(
                        MaskingException.class,
                        unmaskable -> ErrorResponse.fatal("0A000", unmaskable.getMessage()))
                    .match(
                        ConnectionLostException.class,
                        lost ->
                            ErrorResponse.fatal(
                                "08006", "the upstream database closed the connection"))
                    .matchAny(
                        failure -> {
                          SessionMdc.run(
                              sessionId, () -> log.error("session stream failed", failure));
                          return ErrorResponse.fatal(
                              "XX000",
                              "internal error in the gateway; the gateway log has details");
                        })
                    .build())
            .map(
                message -> {
                  if (message instanceof ErrorResponse error) {
                    metrics.errorSent(error.sqlState());
                  }
                  return message;
                })
            .watchTermination((notUsed, done) -> ended(done, toClientEnded))
            .prepend(Source.from(greeting));
    Flow<BackendMessage, FrontendMessage, NotUsed> clientSide =
        Flow.fromSinkAndSource(Sink.fromGraph(new ChannelSink<>(client)), fromClient);
    Flow<FrontendMessage, BackendMessage, NotUsed> upstreamSide =
        Flow.fromSinkAndSource(
            Sink.fromGraph(new ChannelSink<>(upstream)),
            Source.fromGraph(new ChannelSource<>(upstream, BackendMessage.class)));
    BidiFlow<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage, NotUsed> session =
        BidiFlow.fromFlows(beforePolicy, toClient)
            .atop(stages.policy())
            .atop(stages.masking())
            .atop(BidiFlow.fromFlows(afterPolicy, Flow.<BackendMessage>create()));
    clientSide.join(session.join(upstreamSide)).withAttributes(dispatcher).run(materializer);
    metrics.sessionOpened();
    return CompletableFuture.allOf(toUpstreamEnded, toClientEnded)
        .thenApply(
            ignored -> {
              metrics.sessionClosed();
              return Done.getInstance();
            });
  }

  private static NotUsed ended(CompletionStage<Done> termination, CompletableFuture<Done> ended) {
    termination.whenComplete((done, failure) -> ended.complete(Done.getInstance()));
    return NotUsed.getInstance();
  }
}
