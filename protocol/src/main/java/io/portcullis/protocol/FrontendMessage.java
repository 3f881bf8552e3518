package io.portcullis.protocol;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A message sent by a client to the server. Arrays in these records are not copied; records with
 * array components compare them by content.
 */
public sealed interface FrontendMessage extends WireMessage
    permits FrontendMessage.Startup,
        FrontendMessage.SslRequest,
        FrontendMessage.GssEncRequest,
        FrontendMessage.CancelRequest,
        FrontendMessage.Query,
        FrontendMessage.Parse,
        FrontendMessage.Bind,
        FrontendMessage.Describe,
        FrontendMessage.Execute,
        FrontendMessage.Close,
        FrontendMessage.Sync,
        FrontendMessage.Flush,
        FrontendMessage.Terminate,
        WireMessage.CopyData,
        WireMessage.CopyDone,
        FrontendMessage.CopyFail,
        FrontendMessage.FunctionCall,
        FrontendMessage.AuthenticationResponse {

  /**
   * Whether the message is part of the data a client sends for a COPY: CopyData, CopyDone,
   * CopyFail.
   */
  static boolean partOfCopy(FrontendMessage message) {
    return message instanceof WireMessage.CopyData
        || message == WireMessage.CopyDone.INSTANCE
        || message instanceof CopyFail;
  }

  /**
   * StartupMessage. The parameters keep their order.
   *
   * <p>{@code int32 len | int32 version (3<<16|minor) | (cstring name | cstring value)* | 0}
   */
  record Startup(int protocolVersion, Map<String, String> parameters) implements FrontendMessage {

    public static final int PROTOCOL_3_0 = 3 << 16;

    public Startup {
      parameters = Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
    }

    public int majorVersion() {
      return protocolVersion >>> 16;
    }

    public int minorVersion() {
      return protocolVersion & 0xFFFF;
    }

    static Startup decode(ByteBuf body) {
      int version = body.readInt();
      Map<String, String> parameters = new LinkedHashMap<>();
      for (String name = Wire.readCString(body); !name.isEmpty(); name = Wire.readCString(body)) {
        parameters.put(name, Wire.readCString(body));
      }
      return new Startup(version, parameters);
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.beginUntyped(out);
      out.writeInt(protocolVersion);
      parameters.forEach(
          (name, value) -> {
            Wire.writeCString(out, name);
            Wire.writeCString(out, value);
          });
      out.writeByte(0);
      Wire.end(out, start);
    }
  }

  /**
   * Asks the server to switch to TLS.
   *
   * <p>{@code int32 8 | int32 80877103}
   */
  enum SslRequest implements FrontendMessage {
    INSTANCE;

    static final int CODE = 80877103;

    static SslRequest decode(ByteBuf body) {
      body.skipBytes(Integer.BYTES);
      return INSTANCE;
    }

    @Override
    public void writeTo(ByteBuf out) {
      out.writeInt(8);
      out.writeInt(CODE);
    }
  }

  /**
   * Asks the server to switch to GSSAPI encryption.
   *
   * <p>{@code int32 8 | int32 80877104}
   */
  enum GssEncRequest implements FrontendMessage {
    INSTANCE;

    static final int CODE = 80877104;

    static GssEncRequest decode(ByteBuf body) {
      body.skipBytes(Integer.BYTES);
      return INSTANCE;
    }

    @Override
    public void writeTo(ByteBuf out) {
      out.writeInt(8);
      out.writeInt(CODE);
    }
  }

  /**
   * Asks the server to cancel the query running in another session, sent on a new connection.
   *
   * <p>{@code int32 16 | int32 80877102 | int32 processId | int32 secretKey}
   */
  record CancelRequest(int processId, int secretKey) implements FrontendMessage {

    static final int CODE = 80877102;

    static CancelRequest decode(ByteBuf body) {
      body.skipBytes(Integer.BYTES);
      return new CancelRequest(body.readInt(), body.readInt());
    }

    @Override
    public void writeTo(ByteBuf out) {
      out.writeInt(16);
      out.writeInt(CODE);
      out.writeInt(processId);
      out.writeInt(secretKey);
    }
  }

  /**
   * Simple query: one or more SQL statements.
   *
   * <p>{@code 'Q' | int32 len | cstring sql}
   */
  record Query(String sql) implements FrontendMessage {
    static Query decode(ByteBuf body) {
      return new Query(Wire.readCString(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'Q');
      Wire.writeCString(out, sql);
      Wire.end(out, start);
    }
  }

  /**
   * Parse: creates a prepared statement ({@code ""} is the unnamed one). Type OID 0 leaves a
   * parameter's type unspecified.
   *
   * <p>{@code 'P' | int32 len | cstring name | cstring sql | int16 n | int32 typeOid[n]}
   */
  record Parse(String name, String sql, int[] parameterTypes) implements FrontendMessage {
    static Parse decode(ByteBuf body) {
      return new Parse(
          Wire.readCString(body), Wire.readCString(body), Wire.readInts(body, "parameter type"));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'P');
      Wire.writeCString(out, name);
      Wire.writeCString(out, sql);
      Wire.writeInts(out, parameterTypes);
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
   * Bind: creates a portal from a prepared statement. A null parameter is SQL NULL.
   *
   * <p>{@code 'B' | int32 len | cstring portal | cstring statement | int16 n | int16 format[n] |
   * int16 m | (int32 len or -1 | bytes)[m] | int16 r | int16 resultFormat[r]}
   */
  record Bind(
      String portal,
      String statement,
      short[] parameterFormats,
      byte[][] parameters,
      short[] resultFormats)
      implements FrontendMessage {

    static Bind decode(ByteBuf body) {
      return new Bind(
          Wire.readCString(body),
          Wire.readCString(body),
          Wire.readShorts(body, "parameter format"),
          Wire.readValues(body, "parameter"),
          Wire.readShorts(body, "result format"));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'B');
      Wire.writeCString(out, portal);
      Wire.writeCString(out, statement);
      Wire.writeShorts(out, parameterFormats);
      Wire.writeValues(out, parameters);
      Wire.writeShorts(out, resultFormats);
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
   * Describe a prepared statement ({@code 'S'}) or portal ({@code 'P'}).
   *
   * <p>{@code 'D' | int32 len | byte1 target | cstring name}
   */
  record Describe(char target, String name) implements FrontendMessage {
    static Describe decode(ByteBuf body) {
      return new Describe(Wire.readTarget(body), Wire.readCString(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'D');
      out.writeByte(target);
      Wire.writeCString(out, name);
      Wire.end(out, start);
    }
  }

  /**
   * Execute a portal; {@code maxRows} 0 means no limit.
   *
   * <p>{@code 'E' | int32 len | cstring portal | int32 maxRows}
   */
  record Execute(String portal, int maxRows) implements FrontendMessage {
    static Execute decode(ByteBuf body) {
      return new Execute(Wire.readCString(body), body.readInt());
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'E');
      Wire.writeCString(out, portal);
      out.writeInt(maxRows);
      Wire.end(out, start);
    }
  }

  /**
   * Close a prepared statement ({@code 'S'}) or portal ({@code 'P'}).
   *
   * <p>{@code 'C' | int32 len | byte1 target | cstring name}
   */
  record Close(char target, String name) implements FrontendMessage {
    static Close decode(ByteBuf body) {
      return new Close(Wire.readTarget(body), Wire.readCString(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'C');
      out.writeByte(target);
      Wire.writeCString(out, name);
      Wire.end(out, start);
    }
  }

  /** {@code 'S' | int32 4} */
  enum Sync implements FrontendMessage {
    INSTANCE;

    @Override
    public void writeTo(ByteBuf out) {
      Wire.writeEmpty(out, 'S');
    }
  }

  /** {@code 'H' | int32 4} */
  enum Flush implements FrontendMessage {
    INSTANCE;

    @Override
    public void writeTo(ByteBuf out) {
      Wire.writeEmpty(out, 'H');
    }
  }

  /** {@code 'X' | int32 4} */
  enum Terminate implements FrontendMessage {
    INSTANCE;

    @Override
    public void writeTo(ByteBuf out) {
      Wire.writeEmpty(out, 'X');
    }
  }

  /** {@code 'f' | int32 len | cstring message} */
  record CopyFail(String message) implements FrontendMessage {
    static CopyFail decode(ByteBuf body) {
      return new CopyFail(Wire.readCString(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'f');
      Wire.writeCString(out, message);
      Wire.end(out, start);
    }
  }

  /**
   * Legacy fast-path function call. A null argument is SQL NULL.
   *
   * <p>{@code 'F' | int32 len | int32 functionOid | int16 n | int16 format[n] | int16 m | (int32
   * len or -1 | bytes)[m] | int16 resultFormat}
   */
  record FunctionCall(
      int functionOid, short[] argumentFormats, byte[][] arguments, short resultFormat)
      implements FrontendMessage {

    static FunctionCall decode(ByteBuf body) {
      return new FunctionCall(
          body.readInt(),
          Wire.readShorts(body, "argument format"),
          Wire.readValues(body, "argument"),
          body.readShort());
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'F');
      out.writeInt(functionOid);
      Wire.writeShorts(out, argumentFormats);
      Wire.writeValues(out, arguments);
      out.writeShort(resultFormat);
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
   * PasswordMessage, SASLInitialResponse, SASLResponse or GSSResponse: all share type 'p' and only
   * the authentication exchange in progress tells them apart, so the raw payload is kept.
   *
   * <p>{@code 'p' | int32 len | bytes payload}
   */
  record AuthenticationResponse(byte[] payload) implements FrontendMessage {

    /** PasswordMessage payload: {@code cstring password}. */
    public static AuthenticationResponse password(String password) {
      return new AuthenticationResponse(Wire.bytes(out -> Wire.writeCString(out, password)));
    }

    /**
     * SASLInitialResponse payload: {@code cstring mechanism | int32 len or -1 | bytes data}; a null
     * {@code data} is sent as -1 (no initial response).
     */
    public static AuthenticationResponse saslInitial(String mechanism, byte[] data) {
      return new AuthenticationResponse(
          Wire.bytes(
              out -> {
                Wire.writeCString(out, mechanism);
                Wire.writeValue(out, data);
              }));
    }

    /** SASLResponse payload: the mechanism's bytes as they are. */
    public static AuthenticationResponse sasl(byte[] data) {
      return new AuthenticationResponse(data);
    }

    /**
     * Reads the payload as a PasswordMessage; throws ProtocolException if it is not one cstring.
     */
    public String password() {
      return Wire.decode("password", Unpooled.wrappedBuffer(payload), Wire::readCString);
    }

    /** Reads the payload as a SASLInitialResponse; throws ProtocolException if it is not one. */
    public SaslInitial asSaslInitial() {
      return Wire.decode(
          "SASLInitialResponse", Unpooled.wrappedBuffer(payload), SaslInitial::decode);
    }

    static AuthenticationResponse decode(ByteBuf body) {
      return new AuthenticationResponse(Wire.readRest(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'p');
      out.writeBytes(payload);
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

    /** Never shows the payload, which may be a password. */
    @Override
    public String toString() {
      return "AuthenticationResponse[" + payload.length + " bytes]";
    }

    /** A decoded SASLInitialResponse; {@code data} is null when the client sent none. */
    public record SaslInitial(String mechanism, byte[] data) {
      static SaslInitial decode(ByteBuf body) {
        return new SaslInitial(Wire.readCString(body), Wire.readValue(body, "initial response"));
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
  }
}
