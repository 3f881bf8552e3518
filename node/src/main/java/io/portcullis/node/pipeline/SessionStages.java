package io.portcullis.node.pipeline;

import io.portcullis.node.audit.SessionRecorder;
import io.portcullis.node.metrics.GatewayMetrics;
import io.portcullis.node.policy.SessionPolicy;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.FrontendMessage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.BidiFlow;
import org.apache.pekko.stream.javadsl.Flow;

/**
 * The four places where Portcullis acts on a session's traffic. Client messages pass auth (is the
 * identity still valid?), policy (may this statement run?) and approval (has a person agreed?)
 * before they reach the upstream; upstream messages pass masking before they reach the client.
 * Policy sees both directions: it matches the upstream's answers to the statements it refused.
 * Masking sees both too, below policy: it follows which statement each result belongs to.
 */
public record SessionStages(
    Flow<FrontendMessage, FrontendMessage, NotUsed> auth,
    BidiFlow<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage, NotUsed> policy,
    Flow<FrontendMessage, FrontendMessage, NotUsed> approval,
    BidiFlow<FrontendMessage, FrontendMessage, BackendMessage, BackendMessage, NotUsed> masking) {

  /** Makes the stages of a new session. */
  public interface Factory {
    SessionStages create(
        SessionPolicy policy,
        SessionRecorder recorder,
        MaskingStage masking,
        GatewayMetrics metrics);
  }

  /**
   * The gateway's own stages: the session's policy and masking are enforced, and every statement is
   * journaled before it runs.
   */
  public static SessionStages enforcing(
      SessionPolicy policy,
      SessionRecorder recorder,
      MaskingStage masking,
      GatewayMetrics metrics) {
    return new SessionStages(
        Flow.<FrontendMessage>create().named("auth"),
        BidiFlow.fromGraph(new PolicyStage(policy, recorder, metrics)).named("policy"),
        Flow.<FrontendMessage>create().named("approval"),
        BidiFlow.fromGraph(masking).named("masking"));
  }
}
