package io.portcullis.node.pipeline;

import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.FrontendMessage;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.javadsl.Flow;

/**
 * The four places where Portcullis acts on a session's traffic. Client messages pass auth (is the
 * identity still valid?), policy (may this statement run?) and approval (has a person agreed?)
 * before they reach the upstream; upstream messages pass masking before they reach the client.
 */
public record SessionStages(
    Flow<FrontendMessage, FrontendMessage, NotUsed> auth,
    Flow<FrontendMessage, FrontendMessage, NotUsed> policy,
    Flow<FrontendMessage, FrontendMessage, NotUsed> approval,
    Flow<BackendMessage, BackendMessage, NotUsed> masking) {

  /** Every stage forwards what it receives unchanged. */
  public static SessionStages passThrough() {
    return new SessionStages(
        Flow.<FrontendMessage>create().named("auth"),
        Flow.<FrontendMessage>create().named("policy"),
        Flow.<FrontendMessage>create().named("approval"),
        Flow.<BackendMessage>create().named("masking"));
  }
}
