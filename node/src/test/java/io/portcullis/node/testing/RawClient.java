package io.portcullis.node.testing;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.portcullis.protocol.BackendDecoder;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.WireMessage;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * A PostgreSQL client at the byte level, for tests that must send what no driver would (hostile
 * frames, bytes behind an SSLRequest) or read slowly. Decodes what it receives with the protocol
 * module's own {@link BackendDecoder}.
 */
public final class RawClient implements AutoCloseable {

  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private final EmbeddedChannel decoder = new EmbeddedChannel(new BackendDecoder(1 << 30));

  public RawClient(int port) throws IOException {
    socket = new Socket("127.0.0.1", port);
    socket.setSoTimeout((int) Duration.ofSeconds(20).toMillis());
    in = socket.getInputStream();
    out = socket.getOutputStream();
  }

  public RawClient send(WireMessage... messages) throws IOException {
    for (WireMessage message : messages) {
      ByteBuf buf = Unpooled.buffer();
      message.writeTo(buf);
      byte[] bytes = new byte[buf.readableBytes()];
      buf.readBytes(bytes);
      buf.release();
      out.write(bytes);
    }
    out.flush();
    return this;
  }

  public RawClient sendBytes(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  public int readByte() throws IOException {
    return in.read();
  }

  public Socket socket() {
    return socket;
  }

  /** Reads until a message matches {@code last} (inclusive), or the server closes. */
  public List<BackendMessage> readUntil(Predicate<BackendMessage> last) throws IOException {
    List<BackendMessage> received = new ArrayList<>();
    readUntil(last, received::add);
    return received;
  }

  /** Like {@link #readUntil(Predicate)} but hands each message over instead of keeping it. */
  public void readUntil(Predicate<BackendMessage> last, Consumer<BackendMessage> each)
      throws IOException {
    byte[] chunk = new byte[8192];
    while (true) {
      BackendMessage message;
      while ((message = decoder.readInbound()) != null) {
        each.accept(message);
        if (last.test(message)) {
          return;
        }
      }
      int n = in.read(chunk);
      if (n < 0) {
        return;
      }
      decoder.writeInbound(Unpooled.copiedBuffer(chunk, 0, n));
    }
  }

  /** Everything until the server closes the connection. */
  public List<BackendMessage> readToEnd() throws IOException {
    return readUntil(message -> false);
  }

  /** True if the server closed the connection within the timeout. */
  public boolean closedByServer(Duration timeout) throws IOException {
    socket.setSoTimeout((int) timeout.toMillis());
    try {
      byte[] chunk = new byte[8192];
      while (true) {
        int n = in.read(chunk);
        if (n < 0) {
          return true;
        }
      }
    } catch (SocketTimeoutException e) {
      return false;
    } catch (IOException e) {
      return true;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
    decoder.finishAndReleaseAll();
  }
}
