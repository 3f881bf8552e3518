package io.portcullis.node.server;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.DecoderException;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.ProtocolException;
import java.io.IOException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sits right behind the client decoder: a malformed or oversized frame ends that connection with
 * a FATAL ErrorResponse naming the problem (as PostgreSQL does), and nothing else is affected.
 */
@ChannelHandler.Sharable
final class ProtocolErrorHandler extends ChannelInboundHandlerAdapter {

  static final ProtocolErrorHandler INSTANCE = new ProtocolErrorHandler();
  private static final Logger log = LoggerFactory.getLogger(ProtocolErrorHandler.class);

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable root = cause instanceof DecoderException && cause.getCause() != null
        ? cause.getCause() : cause;
    if (root instanceof ProtocolException protocol) {
      log.info("protocol violation from {}: {}", ctx.channel().remoteAddress(), protocol.getMessage());
      ctx.channel().writeAndFlush(ErrorResponse.fatal(protocol.sqlState(), protocol.getMessage()))
          .addListener(ChannelFutureListener.CLOSE);
    } else if (root instanceof IOException) {
      log.debug("client connection {} failed: {}", ctx.channel().remoteAddress(), root.toString());
      ctx.close();
    } else {
      log.warn("client connection {} failed", ctx.channel().remoteAddress(), cause);
      ctx.close();
    }
  }
}
