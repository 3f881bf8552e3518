package io.portcullis.node.server;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundHandlerAdapter;
import io.netty.channel.ChannelPromise;
import io.portcullis.node.metrics.GatewayMetrics;
import io.portcullis.protocol.BackendMessage.ErrorResponse;

/** Counts what passes through client connections, for the node's metrics. */
final class ClientTraffic {

  private ClientTraffic() {}

  /**
   * Bytes read and written, once per socket read and per write (a session's writes are bursts of
   * messages). It sits inside TLS, so it counts the protocol's bytes.
   */
  @ChannelHandler.Sharable
  static final class Bytes extends ChannelDuplexHandler {
    private final GatewayMetrics metrics;

    Bytes(GatewayMetrics metrics) {
      this.metrics = metrics;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof ByteBuf bytes) {
        metrics.clientBytesReceived(bytes.readableBytes());
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof ByteBuf bytes) {
        metrics.clientBytesSent(bytes.readableBytes());
      }
      ctx.write(msg, promise);
    }
  }

  /**
   * ErrorResponses written as messages, before the encoder: those of the startup, the login and the
   * session actor. A session's pipeline writes encoded bursts and counts its own.
   */
  @ChannelHandler.Sharable
  static final class Errors extends ChannelOutboundHandlerAdapter {
    private final GatewayMetrics metrics;

    Errors(GatewayMetrics metrics) {
      this.metrics = metrics;
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) {
      if (msg instanceof ErrorResponse error) {
        metrics.errorSent(error.sqlState());
      }
      ctx.write(msg, promise);
    }
  }
}
