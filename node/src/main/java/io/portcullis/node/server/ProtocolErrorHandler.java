package io.portcullis.node.server;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.DecoderException;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.ProtocolException;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits right behind the client decoder: a malformed or oversized frame ends that connection with a
 * FATAL ErrorResponse naming the problem (as PostgreSQL does), and nothing else is affected.
 */
@ChannelHandler.Sharable
final class ProtocolErrorHandler extends ChannelInboundHandlerAdapter {

  static final ProtocolErrorHandler INSTANCE = new ProtocolErrorHandler();
  private static final Logger log = LoggerFactory.getLogger(ProtocolErrorHandler.class);

  /**
   * Sends a last error and closes without losing it: closing while the client is still sending
   * (say, the rest of an oversized message) would make the kernel reset the connection and drop the
   * error unread. So the gateway half-closes, keeps discarding input (the decoder is in its failed
   * state) and closes for good once the client has gone or after a grace period.
   */
  static void refuse(Channel channel, ErrorResponse error) {
    channel
        .writeAndFlush(error)
        .addListener(
            (ChannelFutureListener)
                written -> {
                  if (channel instanceof DuplexChannel duplex && channel.isActive()) {
                    duplex.shutdownOutput();
                    channel.config().setAutoRead(true);
                    channel.eventLoop().schedule(() -> channel.close(), 2, TimeUnit.SECONDS);
                  } else {
                    channel.close();
                  }
                });
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable root =
        cause instanceof DecoderException && cause.getCause() != null ? cause.getCause() : cause;
    if (root instanceof ProtocolException protocol) {
      log.info(
          "protocol violation from {}: {}", ctx.channel().remoteAddress(), protocol.getMessage());
      refuse(ctx.channel(), ErrorResponse.fatal(protocol.sqlState(), protocol.getMessage()));
    } else if (root instanceof IOException) {
      log.debug("client connection {} failed: {}", ctx.channel().remoteAddress(), root.toString());
      ctx.close();
    } else {
      log.warn("client connection {} failed", ctx.channel().remoteAddress(), cause);
      ctx.close();
    }
  }
}
