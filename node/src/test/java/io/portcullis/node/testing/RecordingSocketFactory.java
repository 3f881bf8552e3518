package io.portcullis.node.testing;

import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.SocketFactory;

/**
 * A socket factory for pgjdbc ({@code socketFactory} and {@code socketFactoryArg} connection
 * properties) that keeps every byte the client reads, by the argument's name, so that tests can
 * search the exact bytes a client received.
 */
public final class RecordingSocketFactory extends SocketFactory {

  private static final Map<String, ByteArrayOutputStream> RECEIVED = new ConcurrentHashMap<>();

  private final String name;

  public RecordingSocketFactory(String name) {
    this.name = name;
  }

  /** The bytes received so far by the connections recorded under {@code name}; then forgotten. */
  public static byte[] take(String name) {
    ByteArrayOutputStream bytes = RECEIVED.remove(name);
    if (bytes == null) {
      return new byte[0];
    }
    synchronized (bytes) {
      return bytes.toByteArray();
    }
  }

  @Override
  public Socket createSocket() {
    return new Socket() {
      @Override
      public InputStream getInputStream() throws IOException {
        return new FilterInputStream(super.getInputStream()) {
          @Override
          public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
              record(new byte[] {(byte) b}, 0, 1);
            }
            return b;
          }

          @Override
          public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
              record(buffer, offset, n);
            }
            return n;
          }
        };
      }
    };
  }

  private void record(byte[] buffer, int offset, int length) {
    ByteArrayOutputStream bytes = RECEIVED.computeIfAbsent(name, n -> new ByteArrayOutputStream());
    synchronized (bytes) {
      bytes.write(buffer, offset, length);
    }
  }

  @Override
  public Socket createSocket(String host, int port) {
    throw new UnsupportedOperationException("pgjdbc connects an unconnected socket");
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress local, int localPort) {
    throw new UnsupportedOperationException("pgjdbc connects an unconnected socket");
  }

  @Override
  public Socket createSocket(InetAddress host, int port) {
    throw new UnsupportedOperationException("pgjdbc connects an unconnected socket");
  }

  @Override
  public Socket createSocket(InetAddress host, int port, InetAddress local, int localPort) {
    throw new UnsupportedOperationException("pgjdbc connects an unconnected socket");
  }
}
