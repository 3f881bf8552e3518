package io.portcullis.protocol;

import static io.portcullis.protocol.Wires.encodeAll;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.channel.embedded.EmbeddedChannel;
import io.portcullis.protocol.BackendMessage.AuthenticationOk;
import io.portcullis.protocol.BackendMessage.AuthenticationSasl;
import io.portcullis.protocol.BackendMessage.AuthenticationSaslContinue;
import io.portcullis.protocol.BackendMessage.AuthenticationSaslFinal;
import io.portcullis.protocol.BackendMessage.BackendKeyData;
import io.portcullis.protocol.BackendMessage.CommandComplete;
import io.portcullis.protocol.BackendMessage.DataRow;
import io.portcullis.protocol.BackendMessage.ParameterStatus;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.BackendMessage.RowDescription;
import io.portcullis.protocol.BackendMessage.RowDescription.Column;
import io.portcullis.protocol.FrontendMessage.AuthenticationResponse;
import io.portcullis.protocol.FrontendMessage.Bind;
import io.portcullis.protocol.FrontendMessage.Describe;
import io.portcullis.protocol.FrontendMessage.Execute;
import io.portcullis.protocol.FrontendMessage.Parse;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.FrontendMessage.Startup;
import io.portcullis.protocol.FrontendMessage.Sync;
import io.portcullis.protocol.FrontendMessage.Terminate;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/** Decoding must not depend on how the stream is cut into reads. */
class FragmentationTest {

  private static final List<FrontendMessage> CLIENT_SESSION =
      List.of(
          new Startup(Startup.PROTOCOL_3_0, Map.of("user", "alice", "database", "shop")),
          AuthenticationResponse.password("secret"),
          new Parse("", "SELECT * FROM orders WHERE id = $1", new int[] {23}),
          new Bind("", "", new short[] {1}, new byte[][] {{0, 0, 0, 7}}, new short[0]),
          new Describe('P', ""),
          new Execute("", 0),
          Sync.INSTANCE,
          new Query("COPY t FROM STDIN"),
          new WireMessage.CopyData(utf8("1\tföö\n")),
          new WireMessage.CopyData(new byte[0]),
          WireMessage.CopyDone.INSTANCE,
          new Query("SELECT 'ünïcödé'"),
          Terminate.INSTANCE);

  private static final List<BackendMessage> SERVER_SESSION = serverSession();

  private static final byte[] CLIENT_STREAM = encodeAll(CLIENT_SESSION);
  private static final byte[] SERVER_STREAM = encodeAll(SERVER_SESSION);

  private static List<BackendMessage> serverSession() {
    List<BackendMessage> messages =
        new ArrayList<>(
            List.of(
                new AuthenticationSasl(List.of("SCRAM-SHA-256")),
                new AuthenticationSaslContinue(utf8("r=nonce,s=salt,i=4096")),
                new AuthenticationSaslFinal(utf8("v=proof")),
                AuthenticationOk.INSTANCE,
                new ParameterStatus("server_version", "17.2"),
                new ParameterStatus("client_encoding", "UTF8"),
                new ParameterStatus("TimeZone", "UTC"),
                new BackendKeyData(4242, 987654321),
                ReadyForQuery.IDLE,
                new RowDescription(
                    List.of(
                        new Column("id", 16384, (short) 1, 23, (short) 4, -1, (short) 0),
                        new Column("note", 16384, (short) 2, 25, (short) -1, -1, (short) 0)))));
    IntStream.range(0, 500)
        .forEach(
            i ->
                messages.add(
                    new DataRow(
                        new byte[][] {
                          utf8(Integer.toString(i)), i % 7 == 0 ? null : utf8("note " + i)
                        })));
    messages.add(new CommandComplete("SELECT 500"));
    messages.add(ReadyForQuery.IDLE);
    return List.copyOf(messages);
  }

  private static byte[] utf8(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  /** Feeds {@code stream} in chunks of 1..maxChunk bytes and returns everything decoded. */
  private static List<Object> decodeInChunks(
      Supplier<EmbeddedChannel> channels, byte[] stream, Random random, int maxChunk) {
    EmbeddedChannel channel = channels.get();
    List<Object> decoded = new ArrayList<>();
    for (int offset = 0; offset < stream.length; ) {
      int end = Math.min(stream.length, offset + 1 + random.nextInt(maxChunk));
      decoded.addAll(Wires.feed(channel, Arrays.copyOfRange(stream, offset, end)));
      offset = end;
    }
    assertFalse(channel.finish());
    return decoded;
  }

  @Test
  void clientStreamOneByteAtATime() {
    assertThat(decodeInChunks(Wires::frontendChannel, CLIENT_STREAM, new Random(1), 1))
        .containsExactlyElementsOf(CLIENT_SESSION);
  }

  @Test
  void serverStreamOneByteAtATime() {
    assertThat(decodeInChunks(Wires::backendChannel, SERVER_STREAM, new Random(1), 1))
        .containsExactlyElementsOf(SERVER_SESSION);
  }

  @Test
  void clientStreamInOneBuffer() {
    assertThat(
            decodeInChunks(
                Wires::frontendChannel, CLIENT_STREAM, new Random(1), CLIENT_STREAM.length))
        .containsExactlyElementsOf(CLIENT_SESSION);
  }

  @Property(tries = 200)
  void clientStreamInRandomSplits(
      @ForAll long seed, @ForAll @IntRange(min = 1, max = 64) int maxChunk) {
    assertThat(decodeInChunks(Wires::frontendChannel, CLIENT_STREAM, new Random(seed), maxChunk))
        .containsExactlyElementsOf(CLIENT_SESSION);
  }

  @Property(tries = 25)
  void serverStreamInRandomSplits(
      @ForAll long seed, @ForAll @IntRange(min = 1, max = 4096) int maxChunk) {
    assertThat(decodeInChunks(Wires::backendChannel, SERVER_STREAM, new Random(seed), maxChunk))
        .containsExactlyElementsOf(SERVER_SESSION);
  }
}
