package io.portcullis.persistence.journal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;

/**
 * A TCP relay to a database that can stall: the connections it carries at that moment stop passing
 * bytes either way, without a reset or a close, as when a network drops packets. Newer connections
 * pass as usual.
 */
final class StallingRelay implements AutoCloseable {

  private final ServerSocket server;
  private final String host;
  private final int port;
  private final List<Pair> pairs = new CopyOnWriteArrayList<>();

  private record Pair(Socket client, Socket upstream, CountDownLatch stalled) {}

  StallingRelay(String host, int port) throws IOException {
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    this.host = host;
    this.port = port;
    Thread accepting = new Thread(this::accept, "stalling-relay");
    accepting.setDaemon(true);
    accepting.start();
  }

  int port() {
    return server.getLocalPort();
  }

  /** Stalls every connection open now. */
  void stall() {
    for (Pair pair : pairs) {
      pair.stalled().countDown();
    }
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket upstream = new Socket(host, port);
        Pair pair = new Pair(client, upstream, new CountDownLatch(1));
        pairs.add(pair);
        pump(pair, client, upstream);
        pump(pair, upstream, client);
      } catch (IOException e) {
        return;
      }
    }
  }

  private static void pump(Pair pair, Socket from, Socket to) {
    Thread thread =
        new Thread(
            () -> {
              byte[] buffer = new byte[8192];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int read;
                while ((read = in.read(buffer)) >= 0) {
                  if (pair.stalled().getCount() == 0) {
                    Thread.sleep(Long.MAX_VALUE);
                  }
                  out.write(buffer, 0, read);
                  out.flush();
                }
              } catch (IOException | InterruptedException e) {
                // The relay is closing.
              }
            },
            "stalling-relay-pump");
    thread.setDaemon(true);
    thread.start();
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Pair pair : pairs) {
      pair.client().close();
      pair.upstream().close();
    }
  }
}
