package io.portcullis.node.pipeline;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.util.AttributeKey;

/**
 * Tells a close the gateway chose (a session ending) from a peer that went away, so that a lost
 * upstream can be reported to the client while an orderly end is not.
 */
public final class LocalClose {

  private static final AttributeKey<Boolean> CLOSED_LOCALLY =
      AttributeKey.valueOf("portcullis.closedLocally");

  private LocalClose() {}

  /** Closes after everything already written has been flushed. */
  public static void close(Channel channel) {
    channel.attr(CLOSED_LOCALLY).set(true);
    channel
        .eventLoop()
        .execute(
            () ->
                channel
                    .writeAndFlush(io.netty.buffer.Unpooled.EMPTY_BUFFER)
                    .addListener(ChannelFutureListener.CLOSE));
  }

  static boolean wasLocal(Channel channel) {
    return Boolean.TRUE.equals(channel.attr(CLOSED_LOCALLY).get());
  }
}
