package io.portcullis.node.metrics;

import java.nio.ByteBuffer;
import org.apache.pekko.actor.ActorRef;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.WrappedMessage;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.remote.artery.RemoteInstrument;

/**
 * Counts every message that crosses to or from another cluster node, as the gateway's own (its
 * class is in {@code io.portcullis}, inside any envelope or reply) or Pekko's (gossip, heartbeats,
 * sharding's coordination). Artery makes one per encoder and decoder, from {@code
 * pekko.remote.artery.advanced.instruments}; it writes no metadata into the messages.
 */
public final class ClusterMessages extends RemoteInstrument {

  /** Identifiers 1 to 7 are Pekko's own. */
  private static final byte IDENTIFIER = 8;

  private static final ClassValue<Boolean> GATEWAY =
      new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
          return type.getName().startsWith("io.portcullis.");
        }
      };

  private final GatewayMetrics metrics;

  public ClusterMessages(ExtendedActorSystem system) {
    this.metrics = GatewayMetrics.get(Adapter.toTyped(system));
  }

  @Override
  public byte identifier() {
    return IDENTIFIER;
  }

  @Override
  public void remoteWriteMetadata(
      ActorRef recipient, Object message, ActorRef sender, ByteBuffer buffer) {}

  @Override
  public void remoteMessageSent(
      ActorRef recipient, Object message, ActorRef sender, int size, long time) {
    metrics.clusterMessageSent(isGateway(message));
  }

  @Override
  public void remoteReadMetadata(
      ActorRef recipient, Object message, ActorRef sender, ByteBuffer buffer) {}

  @Override
  public void remoteMessageReceived(
      ActorRef recipient, Object message, ActorRef sender, int size, long time) {
    metrics.clusterMessageReceived(isGateway(message));
  }

  private static boolean isGateway(Object message) {
    Object content = WrappedMessage.unwrap(message);
    if (content instanceof StatusReply<?> reply && reply.isSuccess()) {
      content = WrappedMessage.unwrap(reply.getValue());
    }
    return content != null && GATEWAY.get(content.getClass());
  }
}
