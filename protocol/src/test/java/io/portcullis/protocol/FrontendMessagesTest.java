package io.portcullis.protocol;

import static io.portcullis.protocol.Wires.bytes;
import static io.portcullis.protocol.Wires.encode;
import static io.portcullis.protocol.Wires.feed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.channel.embedded.EmbeddedChannel;
import io.portcullis.protocol.FrontendMessage.AuthenticationResponse;
import io.portcullis.protocol.FrontendMessage.AuthenticationResponse.SaslInitial;
import io.portcullis.protocol.FrontendMessage.Bind;
import io.portcullis.protocol.FrontendMessage.CancelRequest;
import io.portcullis.protocol.FrontendMessage.Close;
import io.portcullis.protocol.FrontendMessage.CopyFail;
import io.portcullis.protocol.FrontendMessage.Describe;
import io.portcullis.protocol.FrontendMessage.Execute;
import io.portcullis.protocol.FrontendMessage.Flush;
import io.portcullis.protocol.FrontendMessage.FunctionCall;
import io.portcullis.protocol.FrontendMessage.GssEncRequest;
import io.portcullis.protocol.FrontendMessage.Parse;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.FrontendMessage.SslRequest;
import io.portcullis.protocol.FrontendMessage.Startup;
import io.portcullis.protocol.FrontendMessage.Sync;
import io.portcullis.protocol.FrontendMessage.Terminate;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every frontend message against hand-written bytes, in both directions. */
class FrontendMessagesTest {

  /** Startup-phase packets, decoded by a fresh decoder. */
  private static void assertStartupPacket(FrontendMessage message, String expected) {
    assertThat(encode(message)).asHexString().isEqualTo(hex(expected));
    EmbeddedChannel channel = Wires.frontendChannel();
    assertThat(feed(channel, bytes(expected))).containsExactly(message);
    assertFalse(channel.finish());
  }

  /** Typed messages, decoded after a StartupMessage. */
  private static void assertMessage(FrontendMessage message, String expected) {
    assertThat(encode(message)).asHexString().isEqualTo(hex(expected));
    EmbeddedChannel channel = Wires.frontendChannelAfterStartup();
    assertThat(feed(channel, bytes(expected))).containsExactly(message);
    assertFalse(channel.finish());
  }

  private static String hex(String notation) {
    return java.util.HexFormat.of().withUpperCase().formatHex(bytes(notation));
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void startup() {
    Map<String, String> parameters = new LinkedHashMap<>();
    parameters.put("user", "alice");
    parameters.put("database", "db");
    Startup startup = new Startup(Startup.PROTOCOL_3_0, parameters);
    assertStartupPacket(startup, "00000020 00030000 'user' 00 'alice' 00 'database' 00 'db' 00 00");
    assertThat(startup.majorVersion()).isEqualTo(3);
    assertThat(startup.minorVersion()).isZero();
  }

  @Test
  void startupKeepsParameterOrder() {
    EmbeddedChannel channel = Wires.frontendChannel();
    Startup startup =
        (Startup)
            feed(channel, bytes("00000015 00030000 'z' 00 '1' 00 'a' 00 '2' 00 'm' 00 '3' 00 00"))
                .get(0);
    assertThat(startup.parameters().keySet()).containsExactly("z", "a", "m");
    assertFalse(channel.finish());
  }

  @Test
  void startupWithNewerMinorVersionIsDecoded() {
    assertStartupPacket(
        new Startup(3 << 16 | 2, Map.of("user", "bob")), "00000012 00030002 'user' 00 'bob' 00 00");
  }

  @Test
  void sslRequest() {
    assertStartupPacket(SslRequest.INSTANCE, "00000008 04d2162f");
  }

  @Test
  void gssEncRequest() {
    assertStartupPacket(GssEncRequest.INSTANCE, "00000008 04d21630");
  }

  @Test
  void cancelRequest() {
    assertStartupPacket(
        new CancelRequest(12345, 0xdeadbeef), "00000010 04d2162e 00003039 deadbeef");
  }

  @Test
  void query() {
    assertMessage(new Query("SELECT 1"), "51 0000000d 'SELECT 1' 00");
  }

  @Test
  void queryWithMultiByteUtf8() {
    assertMessage(new Query("SELECT 'ñ'"), "51 00000010 'SELECT ' 27 c3b1 27 00");
  }

  @Test
  void parse() {
    assertMessage(
        new Parse("s1", "SELECT $1", new int[] {23}),
        "50 00000017 's1' 00 'SELECT $1' 00 0001 00000017");
  }

  @Test
  void bind() {
    assertMessage(
        new Bind("p1", "s1", new short[] {1}, new byte[][] {{0, 0, 0, 42}, null}, new short[] {1}),
        "42 00000020 'p1' 00 's1' 00 0001 0001 0002 00000004 0000002a ffffffff 0001 0001");
  }

  @Test
  void bindUnnamedWithoutParameters() {
    assertMessage(
        new Bind("", "", new short[0], new byte[0][], new short[0]),
        "42 0000000c 00 00 0000 0000 0000");
  }

  @Test
  void describe() {
    assertMessage(new Describe('S', "s1"), "44 00000008 'S' 's1' 00");
    assertMessage(new Describe('P', ""), "44 00000006 'P' 00");
  }

  @Test
  void execute() {
    assertMessage(new Execute("p1", 100), "45 0000000b 'p1' 00 00000064");
  }

  @Test
  void close() {
    assertMessage(new Close('P', "p1"), "43 00000008 'P' 'p1' 00");
  }

  @Test
  void sync() {
    assertMessage(Sync.INSTANCE, "53 00000004");
  }

  @Test
  void flush() {
    assertMessage(Flush.INSTANCE, "48 00000004");
  }

  @Test
  void terminate() {
    assertMessage(Terminate.INSTANCE, "58 00000004");
  }

  @Test
  void copyData() {
    assertMessage(new WireMessage.CopyData(new byte[] {1, 2, 3}), "64 00000007 010203");
  }

  @Test
  void copyDone() {
    assertMessage(FrontendMessage.CopyDone.INSTANCE, "63 00000004");
  }

  @Test
  void copyFail() {
    assertMessage(new CopyFail("boom"), "66 00000009 'boom' 00");
  }

  @Test
  void functionCall() {
    assertMessage(
        new FunctionCall(1598, new short[] {1}, new byte[][] {{0, 0, 0, 5}}, (short) 1),
        "46 00000018 0000063e 0001 0001 0001 00000004 00000005 0001");
  }

  @Test
  void passwordMessage() {
    AuthenticationResponse message = AuthenticationResponse.password("secret");
    assertMessage(message, "70 0000000b 'secret' 00");
    assertThat(message.password()).isEqualTo("secret");
  }

  @Test
  void saslInitialResponse() {
    AuthenticationResponse message =
        AuthenticationResponse.saslInitial("SCRAM-SHA-256", utf8("n,,n=,r=abc"));
    assertMessage(message, "70 00000021 'SCRAM-SHA-256' 00 0000000b 'n,,n=,r=abc'");
    assertThat(message.asSaslInitial())
        .isEqualTo(new SaslInitial("SCRAM-SHA-256", utf8("n,,n=,r=abc")));
  }

  @Test
  void saslInitialResponseWithoutData() {
    AuthenticationResponse message = AuthenticationResponse.saslInitial("SCRAM-SHA-256", null);
    assertMessage(message, "70 00000016 'SCRAM-SHA-256' 00 ffffffff");
    assertThat(message.asSaslInitial()).isEqualTo(new SaslInitial("SCRAM-SHA-256", null));
  }

  @Test
  void saslResponse() {
    assertMessage(AuthenticationResponse.sasl(utf8("c=biws")), "70 0000000a 'c=biws'");
  }

  @Test
  void passwordOfANonStringPayloadIsAProtocolViolation() {
    assertThatThrownBy(() -> AuthenticationResponse.sasl(utf8("c=biws")).password())
        .isInstanceOf(ProtocolException.class)
        .hasMessage("malformed password message: a string is missing its NUL terminator");
    assertThatThrownBy(() -> AuthenticationResponse.sasl(bytes("'a' 00 'b' 00")).password())
        .isInstanceOf(ProtocolException.class)
        .hasMessage("malformed password message: 2 unexpected bytes after the last field");
  }

  @Test
  void authenticationResponseNeverPrintsItsPayload() {
    assertThat(AuthenticationResponse.password("hunter2"))
        .hasToString("AuthenticationResponse[8 bytes]");
  }

  @Test
  void stringsWithNulCannotBeEncoded() {
    assertThatThrownBy(
            () -> new Query("SELECT 1\0; DROP TABLE t").writeTo(io.netty.buffer.Unpooled.buffer()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void recordsWithArraysCompareByContent() {
    Bind a = new Bind("", "s", new short[] {0}, new byte[][] {{1}, null}, new short[0]);
    Bind b = new Bind("", "s", new short[] {0}, new byte[][] {{1}, null}, new short[0]);
    assertThat(a)
        .isEqualTo(b)
        .hasSameHashCodeAs(b)
        .isNotEqualTo(new Bind("", "s", new short[] {0}, new byte[][] {{2}, null}, new short[0]));
    assertThat(a)
        .hasToString(
            "Bind[portal=, statement=s, parameterFormats=[0], parameters=[[1], null], resultFormats=[]]");
  }
}
