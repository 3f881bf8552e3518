package io.portcullis.protocol;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.util.function.Consumer;
import java.util.function.Function;

/** Encoding and checked decoding of the protocol's primitive fields. */
final class Wire {

  private static final int MAX_COUNT16 = 0xFFFF;

  private Wire() {}

  /** Writes the type byte and a length placeholder; returns the index to pass to {@link #end}. */
  static int begin(ByteBuf out, char type) {
    out.writeByte(type);
    return beginUntyped(out);
  }

  /** Writes a length placeholder for a startup-phase packet; returns the index for {@link #end}. */
  static int beginUntyped(ByteBuf out) {
    int lengthIndex = out.writerIndex();
    out.writeInt(0);
    return lengthIndex;
  }

  /** Fills in the length written by {@link #begin}: everything from the length field on. */
  static void end(ByteBuf out, int lengthIndex) {
    out.setInt(lengthIndex, out.writerIndex() - lengthIndex);
  }

  static void writeEmpty(ByteBuf out, char type) {
    out.writeByte(type);
    out.writeInt(4);
  }

  /**
   * Decodes a whole message body with {@code decoder}, naming the message in any error. Reads never
   * leave the body, a slice bounded by the declared length, so running past its end means the
   * declared length was too short for the fields.
   */
  static <M> M decode(String name, ByteBuf body, Function<ByteBuf, ? extends M> decoder) {
    int size = body.readableBytes();
    M message;
    try {
      message = decoder.apply(body);
    } catch (IndexOutOfBoundsException e) {
      throw new ProtocolException(
          "malformed "
              + name
              + " message: its "
              + size
              + "-byte body ends in the middle of a field");
    } catch (ProtocolException e) {
      throw new ProtocolException(
          e.sqlState(), "malformed " + name + " message: " + e.getMessage());
    }
    if (body.isReadable()) {
      throw new ProtocolException(
          "malformed "
              + name
              + " message: "
              + body.readableBytes()
              + " unexpected bytes after the last field");
    }
    return message;
  }

  static byte[] bytes(Consumer<ByteBuf> writer) {
    ByteBuf buf = Unpooled.buffer();
    try {
      writer.accept(buf);
      return ByteBufUtil.getBytes(buf);
    } finally {
      buf.release();
    }
  }

  static void writeCString(ByteBuf out, String value) {
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a protocol string cannot contain a NUL character");
    }
    ByteBufUtil.writeUtf8(out, value);
    out.writeByte(0);
  }

  static String readCString(ByteBuf in) {
    int length = in.bytesBefore((byte) 0);
    if (length < 0) {
      throw new ProtocolException("a string is missing its NUL terminator");
    }
    if (!ByteBufUtil.isText(in, in.readerIndex(), length, UTF_8)) {
      throw new ProtocolException("a string is not valid UTF-8");
    }
    String value = in.toString(in.readerIndex(), length, UTF_8);
    in.skipBytes(length + 1);
    return value;
  }

  static void writeCount16(ByteBuf out, int count) {
    if (count > MAX_COUNT16) {
      throw new IllegalArgumentException(
          "count " + count + " does not fit the protocol's int16 field");
    }
    out.writeShort(count);
  }

  /**
   * Reads an int16 count (unsigned, as PostgreSQL does) and checks it against the rest of the body.
   */
  static int readCount16(ByteBuf in, int minBytesEach, String what) {
    return checkCount(in, in.readUnsignedShort(), minBytesEach, what);
  }

  static int readCount32(ByteBuf in, int minBytesEach, String what) {
    return checkCount(in, in.readInt(), minBytesEach, what);
  }

  private static int checkCount(ByteBuf in, int count, int minBytesEach, String what) {
    if (count < 0 || (long) count * minBytesEach > in.readableBytes()) {
      throw new ProtocolException(
          what
              + " count "
              + count
              + " needs at least "
              + (long) count * minBytesEach
              + " bytes but only "
              + in.readableBytes()
              + " remain");
    }
    return count;
  }

  static void writeShorts(ByteBuf out, short[] values) {
    writeCount16(out, values.length);
    for (short value : values) {
      out.writeShort(value);
    }
  }

  static short[] readShorts(ByteBuf in, String what) {
    short[] values = new short[readCount16(in, Short.BYTES, what)];
    for (int i = 0; i < values.length; i++) {
      values[i] = in.readShort();
    }
    return values;
  }

  static void writeInts(ByteBuf out, int[] values) {
    writeCount16(out, values.length);
    for (int value : values) {
      out.writeInt(value);
    }
  }

  static int[] readInts(ByteBuf in, String what) {
    int[] values = new int[readCount16(in, Integer.BYTES, what)];
    for (int i = 0; i < values.length; i++) {
      values[i] = in.readInt();
    }
    return values;
  }

  /** {@code int32 len | bytes}, with length -1 for SQL NULL. */
  static void writeValue(ByteBuf out, byte[] value) {
    if (value == null) {
      out.writeInt(-1);
    } else {
      out.writeInt(value.length);
      out.writeBytes(value);
    }
  }

  static byte[] readValue(ByteBuf in, String what) {
    int length = in.readInt();
    if (length == -1) {
      return null;
    }
    if (length < 0 || length > in.readableBytes()) {
      throw new ProtocolException(
          what + " length " + length + " is invalid: only " + in.readableBytes() + " bytes remain");
    }
    byte[] value = new byte[length];
    in.readBytes(value);
    return value;
  }

  static void writeValues(ByteBuf out, byte[][] values) {
    writeCount16(out, values.length);
    for (byte[] value : values) {
      writeValue(out, value);
    }
  }

  static byte[][] readValues(ByteBuf in, String what) {
    byte[][] values = new byte[readCount16(in, Integer.BYTES, what)][];
    for (int i = 0; i < values.length; i++) {
      values[i] = readValue(in, what);
    }
    return values;
  }

  static byte[] readRest(ByteBuf in) {
    byte[] rest = new byte[in.readableBytes()];
    in.readBytes(rest);
    return rest;
  }

  /** Reads the 'S' (statement) or 'P' (portal) target of Describe and Close. */
  static char readTarget(ByteBuf in) {
    char target = (char) in.readUnsignedByte();
    if (target != 'S' && target != 'P') {
      throw new ProtocolException("target must be 'S' or 'P', got " + describe(target));
    }
    return target;
  }

  /** Renders a wire byte for an error message: {@code 'Q'} if printable, else {@code 0x7f}. */
  static String describe(int value) {
    return value >= 0x20 && value < 0x7f
        ? "'" + (char) value + "'"
        : String.format("0x%02x", value);
  }
}
