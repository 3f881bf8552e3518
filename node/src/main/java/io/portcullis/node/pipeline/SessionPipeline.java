package io.portcullis.node.pipeline;

import io.netty.channel.Channel;
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
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a session's two streams once both sides are connected and authenticated:
 *
 * <pre>
 * client socket → auth → policy → approval → upstream socket
 * upstream socket → masking → client socket
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
   * @param pending client messages that arrived before the pipeline started, sent first
   * @param dispatcher runs the streams on the event loop of the session's sockets
   * @return completes when both directions have ended
   */
  public static CompletionStage<Done> run(
      Channel client,
      Channel upstream,
      List<FrontendMessage> pending,
      SessionStages stages,
      Attributes dispatcher,
      Materializer materializer) {
    Source<FrontendMessage, NotUsed> fromClient =
        Source.fromGraph(new ChannelSource<>(client, FrontendMessage.class));
    if (!pending.isEmpty()) {
      fromClient = Source.from(pending).concat(fromClient);
    }
    CompletionStage<Done> toUpstream =
        fromClient
            .via(stages.auth())
            .via(stages.policy())
            .via(stages.approval())
            .takeWhile(message -> message != FrontendMessage.Terminate.INSTANCE, true)
            .watchTermination(Keep.right())
            .to(Sink.fromGraph(new ChannelSink<>(upstream)))
            .withAttributes(dispatcher)
            .run(materializer);
    CompletionStage<Done> toClient =
        Source.fromGraph(new ChannelSource<>(upstream, BackendMessage.class))
            .via(stages.masking())
            .recover(
                new PFBuilder<Throwable, BackendMessage>()
                    .match(
                        ConnectionLostException.class,
                        lost ->
                            ErrorResponse.fatal(
                                "08006", "the upstream database closed the connection"))
                    .matchAny(
                        failure -> {
                          log.error("session stream failed", failure);
                          return ErrorResponse.fatal(
                              "XX000",
                              "internal error in the gateway; the gateway log has details");
                        })
                    .build())
            .watchTermination(Keep.right())
            .to(Sink.fromGraph(new ChannelSink<>(client)))
            .withAttributes(dispatcher)
            .run(materializer);
    return CompletableFuture.allOf(
            toUpstream.handle((done, failure) -> done).toCompletableFuture(),
            toClient.handle((done, failure) -> done).toCompletableFuture())
        .thenApply(ignored -> Done.getInstance());
  }
}
