package io.portcullis.protocol;

import io.netty.buffer.ByteBuf;

/**
 * A PostgreSQL v3 protocol message that can write itself to the wire.
 *
 * <p>The two messages that flow in both directions, {@link CopyData} and {@link CopyDone}, are
 * declared here so that both {@code FrontendMessage.CopyData} and {@code BackendMessage.CopyData}
 * name the same type.
 */
public interface WireMessage {

  /**
   * Writes the complete message: type byte, int32 length (counting itself but not the type byte),
   * body. Startup-phase packets have no type byte.
   */
  void writeTo(ByteBuf out);

  /**
   * Bulk data during COPY, in either direction. The array is not copied.
   *
   * <p>{@code 'd' | int32 len | bytes data}
   */
  record CopyData(byte[] data) implements FrontendMessage, BackendMessage {
    static CopyData decode(ByteBuf body) {
      return new CopyData(Wire.readRest(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'd');
      out.writeBytes(data);
      Wire.end(out, start);
    }

    @Override
    public boolean equals(Object other) {
      return Records.equals(this, other);
    }

    @Override
    public int hashCode() {
      return Records.hashCode(this);
    }

    @Override
    public String toString() {
      return Records.toString(this);
    }
  }

  /**
   * End of COPY data, in either direction.
   *
   * <p>{@code 'c' | int32 4}
   */
  enum CopyDone implements FrontendMessage, BackendMessage {
    INSTANCE;

    @Override
    public void writeTo(ByteBuf out) {
      Wire.writeEmpty(out, 'c');
    }
  }
}
