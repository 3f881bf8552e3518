package io.portcullis.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Test helpers: a small byte notation, encoding through {@link MessageEncoder}, feeding decoders.
 */
final class Wires {

  static final int MAX_STARTUP = 10_000;
  static final int MAX_MESSAGE = 1 << 20;

  /** The StartupMessage that takes a {@link FrontendDecoder} to the typed-message phase. */
  static final String STARTUP = "00000014 00030000 'user' 00 'alice' 00 00";

  private Wires() {}

  /**
   * Bytes written as hex digit pairs, with {@code 'quoted'} ASCII text; whitespace separates fields
   * for readability only. Example: {@code "51 0000000d 'SELECT 1' 00"}.
   */
  static byte[] bytes(String notation) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int i = 0;
    while (i < notation.length()) {
      char c = notation.charAt(i);
      if (Character.isWhitespace(c)) {
        i++;
      } else if (c == '\'') {
        int close = notation.indexOf('\'', i + 1);
        out.writeBytes(notation.substring(i + 1, close).getBytes(StandardCharsets.US_ASCII));
        i = close + 1;
      } else {
        out.write(HexFormat.fromHexDigits(notation, i, i + 2));
        i += 2;
      }
    }
    return out.toByteArray();
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  /** Encodes through a {@link MessageEncoder} pipeline and releases the encoded buffer. */
  static byte[] encode(WireMessage message) {
    EmbeddedChannel channel = new EmbeddedChannel(new MessageEncoder());
    assertThat(channel.writeOutbound(message)).isTrue();
    ByteBuf encoded = channel.readOutbound();
    try {
      return ByteBufUtil.getBytes(encoded);
    } finally {
      encoded.release();
      assertThat(channel.finish()).isFalse();
    }
  }

  static byte[] encodeAll(List<? extends WireMessage> messages) {
    return concat(messages.stream().map(Wires::encode).toArray(byte[][]::new));
  }

  static EmbeddedChannel frontendChannel() {
    return new EmbeddedChannel(new FrontendDecoder(MAX_STARTUP, MAX_MESSAGE));
  }

  /** A frontend channel whose StartupMessage has already been decoded and read. */
  static EmbeddedChannel frontendChannelAfterStartup() {
    EmbeddedChannel channel = frontendChannel();
    assertThat(feed(channel, bytes(STARTUP)))
        .singleElement()
        .isInstanceOf(FrontendMessage.Startup.class);
    return channel;
  }

  static EmbeddedChannel backendChannel() {
    return new EmbeddedChannel(new BackendDecoder(MAX_MESSAGE));
  }

  /** Writes the bytes in one pooled (leak-tracked) buffer and returns every decoded message. */
  static List<Object> feed(EmbeddedChannel channel, byte[] data) {
    channel.writeInbound(channel.alloc().buffer(data.length).writeBytes(data));
    return drain(channel);
  }

  static List<Object> drain(EmbeddedChannel channel) {
    List<Object> messages = new ArrayList<>();
    for (Object message = channel.readInbound(); message != null; message = channel.readInbound()) {
      messages.add(message);
    }
    return messages;
  }
}
