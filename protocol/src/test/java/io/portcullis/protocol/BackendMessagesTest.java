package io.portcullis.protocol;

import static io.portcullis.protocol.Wires.bytes;
import static io.portcullis.protocol.Wires.encode;
import static io.portcullis.protocol.Wires.feed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.channel.embedded.EmbeddedChannel;
import io.portcullis.protocol.BackendMessage.AuthenticationCleartextPassword;
import io.portcullis.protocol.BackendMessage.AuthenticationMd5Password;
import io.portcullis.protocol.BackendMessage.AuthenticationOk;
import io.portcullis.protocol.BackendMessage.AuthenticationOther;
import io.portcullis.protocol.BackendMessage.AuthenticationSasl;
import io.portcullis.protocol.BackendMessage.AuthenticationSaslContinue;
import io.portcullis.protocol.BackendMessage.AuthenticationSaslFinal;
import io.portcullis.protocol.BackendMessage.BackendKeyData;
import io.portcullis.protocol.BackendMessage.BindComplete;
import io.portcullis.protocol.BackendMessage.CloseComplete;
import io.portcullis.protocol.BackendMessage.CommandComplete;
import io.portcullis.protocol.BackendMessage.CopyBothResponse;
import io.portcullis.protocol.BackendMessage.CopyInResponse;
import io.portcullis.protocol.BackendMessage.CopyOutResponse;
import io.portcullis.protocol.BackendMessage.DataRow;
import io.portcullis.protocol.BackendMessage.EmptyQueryResponse;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.BackendMessage.FunctionCallResponse;
import io.portcullis.protocol.BackendMessage.NegotiateProtocolVersion;
import io.portcullis.protocol.BackendMessage.NoData;
import io.portcullis.protocol.BackendMessage.NoticeResponse;
import io.portcullis.protocol.BackendMessage.NotificationResponse;
import io.portcullis.protocol.BackendMessage.ParameterDescription;
import io.portcullis.protocol.BackendMessage.ParameterStatus;
import io.portcullis.protocol.BackendMessage.ParseComplete;
import io.portcullis.protocol.BackendMessage.PortalSuspended;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.BackendMessage.RowDescription;
import io.portcullis.protocol.BackendMessage.RowDescription.Column;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Every backend message against hand-written bytes, in both directions. */
class BackendMessagesTest {

  private static void assertMessage(BackendMessage message, String expected) {
    assertThat(encode(message))
        .asHexString()
        .isEqualTo(HexFormat.of().withUpperCase().formatHex(bytes(expected)));
    EmbeddedChannel channel = Wires.backendChannel();
    assertThat(feed(channel, bytes(expected))).containsExactly(message);
    assertFalse(channel.finish());
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void authenticationOk() {
    assertMessage(AuthenticationOk.INSTANCE, "52 00000008 00000000");
  }

  @Test
  void authenticationCleartextPassword() {
    assertMessage(AuthenticationCleartextPassword.INSTANCE, "52 00000008 00000003");
  }

  @Test
  void authenticationMd5Password() {
    assertMessage(
        new AuthenticationMd5Password(new byte[] {1, 2, 3, 4}), "52 0000000c 00000005 01020304");
  }

  @Test
  void authenticationSasl() {
    assertMessage(
        new AuthenticationSasl(List.of("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256")),
        "52 0000002a 0000000a 'SCRAM-SHA-256-PLUS' 00 'SCRAM-SHA-256' 00 00");
  }

  @Test
  void authenticationSaslContinue() {
    assertMessage(new AuthenticationSaslContinue(ascii("r=abc")), "52 0000000d 0000000b 'r=abc'");
  }

  @Test
  void authenticationSaslFinal() {
    assertMessage(new AuthenticationSaslFinal(ascii("v=xyz")), "52 0000000d 0000000c 'v=xyz'");
  }

  @Test
  void authenticationOther() {
    assertMessage(new AuthenticationOther(7, new byte[0]), "52 00000008 00000007");
    assertMessage(
        new AuthenticationOther(8, new byte[] {(byte) 0xaa, (byte) 0xbb}),
        "52 0000000a 00000008 aabb");
  }

  @Test
  void backendKeyData() {
    assertMessage(new BackendKeyData(4242, 0x01020304), "4b 0000000c 00001092 01020304");
  }

  @Test
  void bindComplete() {
    assertMessage(BindComplete.INSTANCE, "32 00000004");
  }

  @Test
  void closeComplete() {
    assertMessage(CloseComplete.INSTANCE, "33 00000004");
  }

  @Test
  void commandComplete() {
    assertMessage(new CommandComplete("SELECT 1"), "43 0000000d 'SELECT 1' 00");
  }

  @Test
  void copyData() {
    assertMessage(new BackendMessage.CopyData(ascii("1\tx\n")), "64 00000008 '1' 09 'x' 0a");
  }

  @Test
  void copyDone() {
    assertMessage(BackendMessage.CopyDone.INSTANCE, "63 00000004");
  }

  @Test
  void copyInResponse() {
    assertMessage(
        new CopyInResponse((byte) 0, new short[] {0, 0}), "47 0000000b 00 0002 0000 0000");
  }

  @Test
  void copyOutResponse() {
    assertMessage(new CopyOutResponse((byte) 1, new short[] {1}), "48 00000009 01 0001 0001");
  }

  @Test
  void copyBothResponse() {
    assertMessage(new CopyBothResponse((byte) 0, new short[0]), "57 00000007 00 0000");
  }

  @Test
  void dataRow() {
    assertMessage(
        new DataRow(new byte[][] {ascii("42"), null, new byte[0]}),
        "44 00000014 0003 00000002 '42' ffffffff 00000000");
  }

  @Test
  void emptyQueryResponse() {
    assertMessage(EmptyQueryResponse.INSTANCE, "49 00000004");
  }

  @Test
  void errorResponse() {
    ErrorResponse error = ErrorResponse.of("ERROR", "42P01", "no such table");
    assertMessage(
        error,
        "45 00000029 'S' 'ERROR' 00 'V' 'ERROR' 00 'C' '42P01' 00 'M' 'no such table' 00 00");
    assertThat(error.severity()).isEqualTo("ERROR");
    assertThat(error.sqlState()).isEqualTo("42P01");
    assertThat(error.message()).isEqualTo("no such table");
    assertThat(error.hint()).isNull();
    assertThat(ErrorResponse.fatal("08P01", "bad"))
        .isEqualTo(ErrorResponse.of("FATAL", "08P01", "bad"));
    assertThat(ErrorResponse.error("42501", "denied"))
        .isEqualTo(ErrorResponse.of("ERROR", "42501", "denied"));
  }

  @Test
  void severityFallsBackToTheLocalizedField() {
    ErrorResponse error =
        new ErrorResponse(List.of(new Field('S', "FEHLER"), new Field('C', "42P01")));
    assertThat(error.severity()).isEqualTo("FEHLER");
  }

  @Test
  void noticeResponse() {
    NoticeResponse notice = NoticeResponse.of("WARNING", "01000", "careful");
    assertMessage(
        notice, "4e 00000027 'S' 'WARNING' 00 'V' 'WARNING' 00 'C' '01000' 00 'M' 'careful' 00 00");
    assertThat(notice.sqlState()).isEqualTo("01000");
  }

  @Test
  void functionCallResponse() {
    assertMessage(
        new FunctionCallResponse(new byte[] {0, 0, 0, 5}), "56 0000000c 00000004 00000005");
    assertMessage(new FunctionCallResponse(null), "56 00000008 ffffffff");
  }

  @Test
  void negotiateProtocolVersion() {
    assertMessage(
        new NegotiateProtocolVersion(0, List.of("_pq_.compression")),
        "76 0000001d 00000000 00000001 '_pq_.compression' 00");
  }

  @Test
  void noData() {
    assertMessage(NoData.INSTANCE, "6e 00000004");
  }

  @Test
  void notificationResponse() {
    assertMessage(
        new NotificationResponse(77, "jobs", "ready"), "41 00000013 0000004d 'jobs' 00 'ready' 00");
  }

  @Test
  void parameterDescription() {
    assertMessage(
        new ParameterDescription(new int[] {23, 25}), "74 0000000e 0002 00000017 00000019");
  }

  @Test
  void parameterStatus() {
    assertMessage(
        new ParameterStatus("client_encoding", "UTF8"),
        "53 00000019 'client_encoding' 00 'UTF8' 00");
  }

  @Test
  void parseComplete() {
    assertMessage(ParseComplete.INSTANCE, "31 00000004");
  }

  @Test
  void portalSuspended() {
    assertMessage(PortalSuspended.INSTANCE, "73 00000004");
  }

  @Test
  void readyForQuery() {
    assertMessage(ReadyForQuery.IDLE, "5a 00000005 'I'");
    assertMessage(ReadyForQuery.IN_TRANSACTION, "5a 00000005 'T'");
    assertMessage(ReadyForQuery.FAILED_TRANSACTION, "5a 00000005 'E'");
  }

  @Test
  void rowDescription() {
    assertMessage(
        new RowDescription(
            List.of(
                new Column("id", 16384, (short) 1, 23, (short) 4, -1, (short) 0),
                new Column("name", 16384, (short) 2, 25, (short) -1, -1, (short) 0))),
        "54 00000032 0002"
            + " 'id' 00 00004000 0001 00000017 0004 ffffffff 0000"
            + " 'name' 00 00004000 0002 00000019 ffff ffffffff 0000");
  }
}
