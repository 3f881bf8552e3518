package io.portcullis.protocol;

import static io.portcullis.protocol.Wires.bytes;
import static io.portcullis.protocol.Wires.concat;
import static io.portcullis.protocol.Wires.feed;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import io.portcullis.protocol.FrontendMessage.CancelRequest;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.FrontendMessage.SslRequest;
import io.portcullis.protocol.FrontendMessage.Startup;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

/** Malformed or malicious input is rejected early, with a message a person can act on. */
class HostileInputTest {

  /** Asserts that feeding {@code notation} fails, then that the decoder ignores all later input. */
  private static AbstractThrowableAssert<?, ? extends Throwable> assertRejected(
      EmbeddedChannel channel, String notation) {
    AbstractThrowableAssert<?, ? extends Throwable> thrown =
        assertThatThrownBy(() -> feed(channel, bytes(notation)))
            .isInstanceOf(ProtocolException.class)
            .satisfies(e -> assertThat(((ProtocolException) e).sqlState()).isEqualTo("08P01"));
    assertThat(feed(channel, concat(bytes(Wires.STARTUP), bytes("51 0000000d 'SELECT 1' 00"))))
        .isEmpty();
    assertFalse(channel.finish());
    return thrown;
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> assertFrontendRejected(
      String notation) {
    return assertRejected(Wires.frontendChannelAfterStartup(), notation);
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> assertBackendRejected(
      String notation) {
    return assertRejected(Wires.backendChannel(), notation);
  }

  @Test
  void negativeLength() {
    assertFrontendRejected("51 fffffffb")
        .hasMessage("invalid message length -5 for message type 'Q'");
  }

  @Test
  void lengthBelowFour() {
    assertFrontendRejected("53 00000003")
        .hasMessage("invalid message length 3 for message type 'S'");
  }

  @Test
  void lengthOverTheLimitIsRejectedFromTheHeaderAlone() {
    MaxAllocationTracker allocator = new MaxAllocationTracker();
    EmbeddedChannel channel = Wires.frontendChannelAfterStartup();
    channel.config().setAllocator(allocator);
    // The header arrives in two reads, so the decoder has to accumulate it with the channel's
    // allocator.
    assertThat(feed(channel, bytes("51 7f"))).isEmpty();
    assertRejected(channel, "ffffff")
        .hasMessage(
            "message of 2147483647 bytes exceeds the limit of 1048576 bytes "
                + "(portcullis.limits.max-message-bytes)");
    assertThat(allocator.largest).isLessThan(1024);
  }

  @Test
  void lengthJustOverTheLimit() {
    assertFrontendRejected("64 00100001")
        .hasMessageContaining("message of 1048577 bytes exceeds the limit");
  }

  @Test
  void passwordOverTheLimitIsAFailedLogin() {
    // A 2 MB "token" is an invalid credential (28P01), refused from its header alone.
    EmbeddedChannel channel = Wires.frontendChannelAfterStartup();
    assertThatThrownBy(() -> feed(channel, bytes("70 00200004")))
        .isInstanceOf(ProtocolException.class)
        .satisfies(e -> assertThat(((ProtocolException) e).sqlState()).isEqualTo("28P01"))
        .hasMessageContaining("password message of 2097156 bytes is larger than any token");
  }

  @Test
  void backendLengthOverTheLimit() {
    assertBackendRejected("44 7fffffff")
        .hasMessageContaining("message of 2147483647 bytes exceeds the limit");
  }

  @Test
  void unknownFrontendType() {
    assertFrontendRejected("7a").hasMessage("unknown frontend message type 0x7a");
  }

  @Test
  void unknownBackendType() {
    assertBackendRejected("00 00000004").hasMessage("unknown backend message type 0x00");
  }

  @Test
  void backendOnlyTypeFromAClient() {
    assertFrontendRejected("5a 00000005 'I'").hasMessage("unknown frontend message type 0x5a");
  }

  @Test
  void startupPacketTooLong() {
    assertRejected(Wires.frontendChannel(), "00002711")
        .hasMessage("invalid startup packet length 10001: it must be between 8 and 10000 bytes");
  }

  @Test
  void startupPacketTooShort() {
    assertRejected(Wires.frontendChannel(), "00000007 000300")
        .hasMessage("invalid startup packet length 7: it must be between 8 and 10000 bytes");
  }

  @Test
  void startupPacketWithHugeLength() {
    assertRejected(Wires.frontendChannel(), "7fffffff")
        .hasMessageContaining("invalid startup packet length");
  }

  @Test
  void unsupportedProtocolMajorVersion() {
    assertRejected(Wires.frontendChannel(), "00000011 00020000 'user' 00 'bob' 00 00")
        .hasMessage("unsupported frontend protocol 2.0: Portcullis speaks 3.x");
  }

  @Test
  void startupWithoutTerminator() {
    assertRejected(Wires.frontendChannel(), "00000011 00030000 'user' 00 'bob' 00")
        .hasMessage("malformed startup message: a string is missing its NUL terminator");
  }

  @Test
  void sslRequestWithExtraBytes() {
    assertRejected(Wires.frontendChannel(), "0000000c 04d2162f 00000000")
        .hasMessage("malformed SSLRequest message: 4 unexpected bytes after the last field");
  }

  @Test
  void bytesBufferedBehindSslRequestAreDiscarded() {
    EmbeddedChannel channel = Wires.frontendChannel();
    byte[] injected =
        concat(
            bytes("00000008 04d2162f"), bytes(Wires.STARTUP), bytes("51 0000000d 'SELECT 1' 00"));
    assertThat(feed(channel, injected)).containsExactly(SslRequest.INSTANCE);
    // What the client sends after the handshake is a fresh startup phase.
    assertThat(feed(channel, concat(bytes(Wires.STARTUP), bytes("51 0000000d 'SELECT 1' 00"))))
        .hasSize(2)
        .element(1)
        .isEqualTo(new Query("SELECT 1"));
    assertFalse(channel.finish());
  }

  @Test
  void bytesBufferedBehindGssEncRequestAreDiscarded() {
    EmbeddedChannel channel = Wires.frontendChannel();
    assertThat(feed(channel, concat(bytes("00000008 04d21630"), bytes(Wires.STARTUP))))
        .containsExactly(FrontendMessage.GssEncRequest.INSTANCE);
    assertThat(feed(channel, bytes(Wires.STARTUP))).singleElement().isInstanceOf(Startup.class);
    assertFalse(channel.finish());
  }

  @Test
  void everythingAfterCancelRequestIsDiscarded() {
    EmbeddedChannel channel = Wires.frontendChannel();
    assertThat(
            feed(
                channel,
                concat(bytes("00000010 04d2162e 00003039 deadbeef"), bytes(Wires.STARTUP))))
        .containsExactly(new CancelRequest(12345, 0xdeadbeef));
    assertThat(feed(channel, bytes(Wires.STARTUP))).isEmpty();
    assertFalse(channel.finish());
  }

  @Test
  void truncatedCString() {
    assertFrontendRejected("51 00000008 'abcd'")
        .hasMessage("malformed Query message: a string is missing its NUL terminator");
  }

  @Test
  void invalidUtf8() {
    assertFrontendRejected("51 00000008 'a' c328 00")
        .hasMessage("malformed Query message: a string is not valid UTF-8");
  }

  @Test
  void trailingBytes() {
    assertFrontendRejected("53 00000005 00")
        .hasMessage("malformed Sync message: 1 unexpected bytes after the last field");
  }

  @Test
  void bodyShorterThanItsFixedFields() {
    assertFrontendRejected("45 00000006 00 00")
        .hasMessage("malformed Execute message: its 2-byte body ends in the middle of a field");
  }

  @Test
  void bindParameterCountExceedsTheBody() {
    assertFrontendRejected("42 0000000a 00 00 0000 ffff")
        .hasMessage(
            "malformed Bind message: parameter count 65535 needs at least 262140 bytes but only 0 remain");
  }

  @Test
  void bindParameterLengthPastTheEnd() {
    assertFrontendRejected("42 00000010 00 00 0000 0001 7fffffff 00 00")
        .hasMessage(
            "malformed Bind message: parameter length 2147483647 is invalid: only 2 bytes remain");
  }

  @Test
  void parseTypeCountExceedsTheBody() {
    assertFrontendRejected("50 0000000a 00 00 0002 0000")
        .hasMessage(
            "malformed Parse message: parameter type count 2 needs at least 8 bytes but only 2 remain");
  }

  @Test
  void describeWithUnknownTarget() {
    assertFrontendRejected("44 00000006 'X' 00")
        .hasMessage("malformed Describe message: target must be 'S' or 'P', got 'X'");
  }

  @Test
  void dataRowColumnLengthPastTheEnd() {
    assertBackendRejected("44 0000000c 0001 00000064 'ab'")
        .hasMessage(
            "malformed DataRow message: column value length 100 is invalid: only 2 bytes remain");
  }

  @Test
  void dataRowNegativeColumnLength() {
    assertBackendRejected("44 0000000a 0001 fffffffe")
        .hasMessage(
            "malformed DataRow message: column value length -2 is invalid: only 0 bytes remain");
  }

  @Test
  void rowDescriptionColumnCountExceedsTheBody() {
    assertBackendRejected("54 00000008 0400 0000")
        .hasMessage(
            "malformed RowDescription message: column count 1024 needs at least 19456 bytes but only 2 remain");
  }

  @Test
  void negotiateProtocolVersionNegativeOptionCount() {
    assertBackendRejected("76 0000000c 00000000 80000000")
        .hasMessageContaining("option count -2147483648 needs at least");
  }

  @Test
  void md5SaltTooShort() {
    assertBackendRejected("52 0000000a 00000005 0102")
        .hasMessage(
            "malformed Authentication message: its 6-byte body ends in the middle of a field");
  }

  @Test
  void readyForQueryWithUnknownStatus() {
    assertBackendRejected("5a 00000005 'X'")
        .hasMessage(
            "malformed ReadyForQuery message: transaction status must be 'I', 'T' or 'E', got 'X'");
  }

  @Test
  void errorResponseWithoutTerminator() {
    assertBackendRejected("45 0000000b 'S' 'ERROR' 00")
        .hasMessage(
            "malformed ErrorResponse message: its 7-byte body ends in the middle of a field");
  }

  /** Remembers the largest buffer the decoder asked for. */
  private static final class MaxAllocationTracker extends AbstractByteBufAllocator {
    int largest;

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      largest = Math.max(largest, initialCapacity);
      return new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity);
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      largest = Math.max(largest, initialCapacity);
      return new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }
}
