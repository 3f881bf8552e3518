package io.portcullis.protocol;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;

/**
 * A message sent by the server to a client. Arrays in these records are not copied; records with
 * array components compare them by content.
 */
public sealed interface BackendMessage extends WireMessage
    permits BackendMessage.Authentication,
        BackendMessage.BackendKeyData,
        BackendMessage.BindComplete,
        BackendMessage.CloseComplete,
        BackendMessage.CommandComplete,
        WireMessage.CopyData,
        WireMessage.CopyDone,
        BackendMessage.CopyInResponse,
        BackendMessage.CopyOutResponse,
        BackendMessage.CopyBothResponse,
        BackendMessage.DataRow,
        BackendMessage.EmptyQueryResponse,
        BackendMessage.Diagnostic,
        BackendMessage.FunctionCallResponse,
        BackendMessage.NegotiateProtocolVersion,
        BackendMessage.NoData,
        BackendMessage.NotificationResponse,
        BackendMessage.ParameterDescription,
        BackendMessage.ParameterStatus,
        BackendMessage.ParseComplete,
        BackendMessage.PortalSuspended,
        BackendMessage.ReadyForQuery,
        BackendMessage.RowDescription {

  /** An authentication request or result: {@code 'R' | int32 len | int32 code | data}. */
  sealed interface Authentication extends BackendMessage
      permits AuthenticationOk,
          AuthenticationCleartextPassword,
          AuthenticationMd5Password,
          AuthenticationSasl,
          AuthenticationSaslContinue,
          AuthenticationSaslFinal,
          AuthenticationOther {

    private static void write(ByteBuf out, int code, byte[] data) {
      int start = Wire.begin(out, 'R');
      out.writeInt(code);
      out.writeBytes(data);
      Wire.end(out, start);
    }
  }

  /** {@code 'R' | int32 8 | int32 0} */
  enum AuthenticationOk implements Authentication {
    INSTANCE;

    static final int CODE = 0;

    @Override
    public void writeTo(ByteBuf out) {
      Authentication.write(out, CODE, new byte[0]);
    }
  }

  /** {@code 'R' | int32 8 | int32 3} */
  enum AuthenticationCleartextPassword implements Authentication {
    INSTANCE;

    static final int CODE = 3;

    @Override
    public void writeTo(ByteBuf out) {
      Authentication.write(out, CODE, new byte[0]);
    }
  }

  /** {@code 'R' | int32 12 | int32 5 | byte4 salt} */
  record AuthenticationMd5Password(byte[] salt) implements Authentication {

    static final int CODE = 5;
    private static final int SALT_BYTES = 4;

    public AuthenticationMd5Password {
      if (salt.length != SALT_BYTES) {
        throw new IllegalArgumentException("an MD5 salt has 4 bytes, not " + salt.length);
      }
    }

    static AuthenticationMd5Password decode(ByteBuf body) {
      byte[] salt = new byte[SALT_BYTES];
      body.readBytes(salt);
      return new AuthenticationMd5Password(salt);
    }

    @Override
    public void writeTo(ByteBuf out) {
      Authentication.write(out, CODE, salt);
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

  /** {@code 'R' | int32 len | int32 10 | (cstring mechanism)* | 0} */
  record AuthenticationSasl(List<String> mechanisms) implements Authentication {

    static final int CODE = 10;

    public AuthenticationSasl {
      mechanisms = List.copyOf(mechanisms);
    }

    static AuthenticationSasl decode(ByteBuf body) {
      List<String> mechanisms = new ArrayList<>();
      for (String name = Wire.readCString(body); !name.isEmpty(); name = Wire.readCString(body)) {
        mechanisms.add(name);
      }
      return new AuthenticationSasl(mechanisms);
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'R');
      out.writeInt(CODE);
      for (String mechanism : mechanisms) {
        Wire.writeCString(out, mechanism);
      }
      out.writeByte(0);
      Wire.end(out, start);
    }
  }

  /** {@code 'R' | int32 len | int32 11 | bytes data} */
  record AuthenticationSaslContinue(byte[] data) implements Authentication {

    static final int CODE = 11;

    static AuthenticationSaslContinue decode(ByteBuf body) {
      return new AuthenticationSaslContinue(Wire.readRest(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      Authentication.write(out, CODE, data);
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

  /** {@code 'R' | int32 len | int32 12 | bytes data} */
  record AuthenticationSaslFinal(byte[] data) implements Authentication {

    static final int CODE = 12;

    static AuthenticationSaslFinal decode(ByteBuf body) {
      return new AuthenticationSaslFinal(Wire.readRest(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      Authentication.write(out, CODE, data);
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
   * Any other authentication code: KerberosV5 (2), SCMCredential (6), GSS (7), GSSContinue (8),
   * SSPI (9), or one newer than this gateway.
   *
   * <p>{@code 'R' | int32 len | int32 code | bytes data}
   */
  record AuthenticationOther(int code, byte[] data) implements Authentication {

    @Override
    public void writeTo(ByteBuf out) {
      Authentication.write(out, code, data);
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

  /** {@code 'K' | int32 12 | int32 processId | int32 secretKey} */
  record BackendKeyData(int processId, int secretKey) implements BackendMessage {
    static BackendKeyData decode(ByteBuf body) {
      return new BackendKeyData(body.readInt(), body.readInt());
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'K');
      out.writeInt(processId);
      out.writeInt(secretKey);
      Wire.end(out, start);
    }
  }

  /** {@code '2' | int32 4} */
  enum BindComplete implements BackendMessage {
    INSTANCE;

    @Override
    public void writeTo(ByteBuf out) {
      Wire.writeEmpty(out, '2');
    }
  }

  /** {@code '3' | int32 4} */
  enum CloseComplete implements BackendMessage {
    INSTANCE;

    @Override
    public void writeTo(ByteBuf out) {
      Wire.writeEmpty(out, '3');
    }
  }

  /** {@code 'C' | int32 len | cstring tag}, e.g. {@code INSERT 0 1}. */
  record CommandComplete(String tag) implements BackendMessage {
    static CommandComplete decode(ByteBuf body) {
      return new CommandComplete(Wire.readCString(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'C');
      Wire.writeCString(out, tag);
      Wire.end(out, start);
    }
  }

  /** {@code 'G' | int32 len | int8 format | int16 n | int16 columnFormat[n]} */
  record CopyInResponse(byte format, short[] columnFormats) implements BackendMessage {
    static CopyInResponse decode(ByteBuf body) {
      return new CopyInResponse(body.readByte(), Wire.readShorts(body, "column format"));
    }

    @Override
    public void writeTo(ByteBuf out) {
      writeCopyResponse(out, 'G', format, columnFormats);
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

  /** {@code 'H' | int32 len | int8 format | int16 n | int16 columnFormat[n]} */
  record CopyOutResponse(byte format, short[] columnFormats) implements BackendMessage {
    static CopyOutResponse decode(ByteBuf body) {
      return new CopyOutResponse(body.readByte(), Wire.readShorts(body, "column format"));
    }

    @Override
    public void writeTo(ByteBuf out) {
      writeCopyResponse(out, 'H', format, columnFormats);
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

  /** {@code 'W' | int32 len | int8 format | int16 n | int16 columnFormat[n]} */
  record CopyBothResponse(byte format, short[] columnFormats) implements BackendMessage {
    static CopyBothResponse decode(ByteBuf body) {
      return new CopyBothResponse(body.readByte(), Wire.readShorts(body, "column format"));
    }

    @Override
    public void writeTo(ByteBuf out) {
      writeCopyResponse(out, 'W', format, columnFormats);
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

  private static void writeCopyResponse(
      ByteBuf out, char type, byte format, short[] columnFormats) {
    int start = Wire.begin(out, type);
    out.writeByte(format);
    Wire.writeShorts(out, columnFormats);
    Wire.end(out, start);
  }

  /** {@code 'D' | int32 len | int16 n | (int32 len or -1 | bytes)[n]}; a null value is NULL. */
  record DataRow(byte[][] values) implements BackendMessage {
    static DataRow decode(ByteBuf body) {
      return new DataRow(Wire.readValues(body, "column value"));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'D');
      Wire.writeValues(out, values);
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

  /** {@code 'I' | int32 4} */
  enum EmptyQueryResponse implements BackendMessage {
    INSTANCE;

    @Override
    public void writeTo(ByteBuf out) {
      Wire.writeEmpty(out, 'I');
    }
  }

  /** ErrorResponse or NoticeResponse: a list of {@link Field}s with lookups for common codes. */
  sealed interface Diagnostic extends BackendMessage permits ErrorResponse, NoticeResponse {

    List<Field> fields();

    /** The value of the first field with this code, or null. */
    default String field(char code) {
      for (Field field : fields()) {
        if (field.code() == code) {
          return field.value();
        }
      }
      return null;
    }

    /** The non-localized severity (V) if present, else the possibly localized one (S). */
    default String severity() {
      String severity = field(Field.SEVERITY_NON_LOCALIZED);
      return severity != null ? severity : field(Field.SEVERITY);
    }

    default String sqlState() {
      return field(Field.SQLSTATE);
    }

    default String message() {
      return field(Field.MESSAGE);
    }

    default String detail() {
      return field(Field.DETAIL);
    }

    default String hint() {
      return field(Field.HINT);
    }
  }

  /** {@code 'E' | int32 len | (byte1 code | cstring value)* | 0} */
  record ErrorResponse(List<Field> fields) implements Diagnostic {

    public ErrorResponse {
      fields = List.copyOf(fields);
    }

    /** Fields S and V (both {@code severity}), C and M. */
    public static ErrorResponse of(String severity, String sqlState, String message) {
      return new ErrorResponse(Field.standard(severity, sqlState, message));
    }

    public static ErrorResponse error(String sqlState, String message) {
      return of("ERROR", sqlState, message);
    }

    /** An error that ends the session. */
    public static ErrorResponse fatal(String sqlState, String message) {
      return of("FATAL", sqlState, message);
    }

    static ErrorResponse decode(ByteBuf body) {
      return new ErrorResponse(Field.readAll(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      Field.writeAll(out, 'E', fields);
    }
  }

  /** {@code 'N' | int32 len | (byte1 code | cstring value)* | 0} */
  record NoticeResponse(List<Field> fields) implements Diagnostic {

    public NoticeResponse {
      fields = List.copyOf(fields);
    }

    /** Fields S and V (both {@code severity}), C and M. */
    public static NoticeResponse of(String severity, String sqlState, String message) {
      return new NoticeResponse(Field.standard(severity, sqlState, message));
    }

    static NoticeResponse decode(ByteBuf body) {
      return new NoticeResponse(Field.readAll(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      Field.writeAll(out, 'N', fields);
    }
  }

  /** {@code 'V' | int32 len | int32 len or -1 | bytes value}; a null value is NULL. */
  record FunctionCallResponse(byte[] value) implements BackendMessage {
    static FunctionCallResponse decode(ByteBuf body) {
      return new FunctionCallResponse(Wire.readValue(body, "result"));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'V');
      Wire.writeValue(out, value);
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

  /** {@code 'v' | int32 len | int32 newestMinorVersion | int32 n | cstring option[n]} */
  record NegotiateProtocolVersion(int newestMinorVersion, List<String> unrecognizedOptions)
      implements BackendMessage {

    public NegotiateProtocolVersion {
      unrecognizedOptions = List.copyOf(unrecognizedOptions);
    }

    static NegotiateProtocolVersion decode(ByteBuf body) {
      int newestMinorVersion = body.readInt();
      int count = Wire.readCount32(body, 1, "option");
      List<String> options = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        options.add(Wire.readCString(body));
      }
      return new NegotiateProtocolVersion(newestMinorVersion, options);
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'v');
      out.writeInt(newestMinorVersion);
      out.writeInt(unrecognizedOptions.size());
      for (String option : unrecognizedOptions) {
        Wire.writeCString(out, option);
      }
      Wire.end(out, start);
    }
  }

  /** {@code 'n' | int32 4} */
  enum NoData implements BackendMessage {
    INSTANCE;

    @Override
    public void writeTo(ByteBuf out) {
      Wire.writeEmpty(out, 'n');
    }
  }

  /** {@code 'A' | int32 len | int32 processId | cstring channel | cstring payload} */
  record NotificationResponse(int processId, String channel, String payload)
      implements BackendMessage {
    static NotificationResponse decode(ByteBuf body) {
      return new NotificationResponse(
          body.readInt(), Wire.readCString(body), Wire.readCString(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'A');
      out.writeInt(processId);
      Wire.writeCString(out, channel);
      Wire.writeCString(out, payload);
      Wire.end(out, start);
    }
  }

  /** {@code 't' | int32 len | int16 n | int32 typeOid[n]} */
  record ParameterDescription(int[] typeOids) implements BackendMessage {
    static ParameterDescription decode(ByteBuf body) {
      return new ParameterDescription(Wire.readInts(body, "parameter type"));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 't');
      Wire.writeInts(out, typeOids);
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

  /** {@code 'S' | int32 len | cstring name | cstring value} */
  record ParameterStatus(String name, String value) implements BackendMessage {
    static ParameterStatus decode(ByteBuf body) {
      return new ParameterStatus(Wire.readCString(body), Wire.readCString(body));
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'S');
      Wire.writeCString(out, name);
      Wire.writeCString(out, value);
      Wire.end(out, start);
    }
  }

  /** {@code '1' | int32 4} */
  enum ParseComplete implements BackendMessage {
    INSTANCE;

    @Override
    public void writeTo(ByteBuf out) {
      Wire.writeEmpty(out, '1');
    }
  }

  /** {@code 's' | int32 4} */
  enum PortalSuspended implements BackendMessage {
    INSTANCE;

    @Override
    public void writeTo(ByteBuf out) {
      Wire.writeEmpty(out, 's');
    }
  }

  /**
   * Transaction status: {@code 'I'} idle, {@code 'T'} in a transaction, {@code 'E'} in a failed
   * transaction.
   *
   * <p>{@code 'Z' | int32 5 | byte1 transactionStatus}
   */
  record ReadyForQuery(char transactionStatus) implements BackendMessage {

    public static final ReadyForQuery IDLE = new ReadyForQuery('I');
    public static final ReadyForQuery IN_TRANSACTION = new ReadyForQuery('T');
    public static final ReadyForQuery FAILED_TRANSACTION = new ReadyForQuery('E');

    static ReadyForQuery decode(ByteBuf body) {
      char status = (char) body.readUnsignedByte();
      if (status != 'I' && status != 'T' && status != 'E') {
        throw new ProtocolException(
            "transaction status must be 'I', 'T' or 'E', got " + Wire.describe(status));
      }
      return new ReadyForQuery(status);
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'Z');
      out.writeByte(transactionStatus);
      Wire.end(out, start);
    }
  }

  /**
   * {@code 'T' | int32 len | int16 n | (cstring name | int32 tableOid | int16 columnNumber | int32
   * typeOid | int16 typeSize | int32 typeModifier | int16 format)[n]}
   */
  record RowDescription(List<Column> columns) implements BackendMessage {

    /** The fixed-size part of a column after its name, plus the name's terminator. */
    private static final int MIN_COLUMN_BYTES = 1 + 4 + 2 + 4 + 2 + 4 + 2;

    public RowDescription {
      columns = List.copyOf(columns);
    }

    static RowDescription decode(ByteBuf body) {
      int count = Wire.readCount16(body, MIN_COLUMN_BYTES, "column");
      List<Column> columns = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        columns.add(
            new Column(
                Wire.readCString(body),
                body.readInt(),
                body.readShort(),
                body.readInt(),
                body.readShort(),
                body.readInt(),
                body.readShort()));
      }
      return new RowDescription(columns);
    }

    @Override
    public void writeTo(ByteBuf out) {
      int start = Wire.begin(out, 'T');
      Wire.writeCount16(out, columns.size());
      for (Column column : columns) {
        Wire.writeCString(out, column.name);
        out.writeInt(column.tableOid);
        out.writeShort(column.columnNumber);
        out.writeInt(column.typeOid);
        out.writeShort(column.typeSize);
        out.writeInt(column.typeModifier);
        out.writeShort(column.format);
      }
      Wire.end(out, start);
    }

    /**
     * A result column; {@code tableOid} and {@code columnNumber} are 0 if it is not a table column.
     */
    public record Column(
        String name,
        int tableOid,
        short columnNumber,
        int typeOid,
        short typeSize,
        int typeModifier,
        short format) {}
  }
}
