package io.portcullis.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.MessageToByteEncoder;

/**
 * Encodes any {@link WireMessage}, frontend or backend. Stateless, so one instance can be shared.
 */
@ChannelHandler.Sharable
public final class MessageEncoder extends MessageToByteEncoder<WireMessage> {

  public static final MessageEncoder INSTANCE = new MessageEncoder();

  public MessageEncoder() {
    super(WireMessage.class);
  }

  @Override
  protected void encode(ChannelHandlerContext ctx, WireMessage message, ByteBuf out) {
    message.writeTo(out);
  }
}
