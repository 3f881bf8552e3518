package io.portcullis.protocol;

import io.netty.buffer.ByteBuf;
import java.util.function.Function;

/**
 * The typed messages one side may send: {@code byte1 type | int32 len | body}. One table per
 * direction maps each type byte to the message's name and static decoder.
 */
final class MessageTypes<M> {

  private static final int HEADER_BYTES = 1 + Integer.BYTES;

  private final String direction;
  private final String[] names = new String[256];

  @SuppressWarnings("unchecked")
  private final Function<ByteBuf, ? extends M>[] decoders =
      (Function<ByteBuf, ? extends M>[]) new Function<?, ?>[256];

  MessageTypes(String direction) {
    this.direction = direction;
  }

  MessageTypes<M> add(char type, String name, Function<ByteBuf, ? extends M> decoder) {
    if (names[type] != null) {
      throw new IllegalArgumentException(
          "type " + Wire.describe(type) + " is already " + names[type]);
    }
    names[type] = name;
    decoders[type] = decoder;
    return this;
  }

  /**
   * Decodes the next message, or returns null until all of it has arrived. The type and length are
   * checked as soon as the header is readable, before any of the body is awaited.
   */
  M read(ByteBuf in, int maxMessageBytes) {
    int start = in.readerIndex();
    int type = in.getUnsignedByte(start);
    if (names[type] == null) {
      throw new ProtocolException(String.format("unknown %s message type 0x%02x", direction, type));
    }
    if (in.readableBytes() < HEADER_BYTES) {
      return null;
    }
    int length = in.getInt(start + 1);
    if (length < Integer.BYTES) {
      throw new ProtocolException(
          "invalid message length " + length + " for message type " + Wire.describe(type));
    }
    if (length > maxMessageBytes) {
      throw new ProtocolException(
          "message of "
              + length
              + " bytes exceeds the limit of "
              + maxMessageBytes
              + " bytes (portcullis.limits.max-message-bytes)");
    }
    if (in.readableBytes() - 1 < length) {
      return null;
    }
    in.skipBytes(HEADER_BYTES);
    return Wire.decode(names[type], in.readSlice(length - Integer.BYTES), decoders[type]);
  }
}
