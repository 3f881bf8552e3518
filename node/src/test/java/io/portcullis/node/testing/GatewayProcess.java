package io.portcullis.node.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A gateway node in a JVM of its own, started with {@code portcullis run} as an operator would, so
 * that a test can kill it as the operating system would ({@code kill -9}) or stop it gracefully.
 */
public final class GatewayProcess implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final Process process;
  private final int port;
  private final Path log;

  private GatewayProcess(Process process, int port, Path log) {
    this.process = process;
    this.port = port;
    this.log = log;
  }

  /**
   * Starts a node whose configuration is {@code config} (HOCON, see {@link TestGateway#config})
   * with the client listener on a free port, and waits until it accepts connections.
   */
  public static GatewayProcess start(Path dir, String name, String config) throws Exception {
    int port = freePort();
    Path file = dir.resolve(name + ".conf");
    Files.writeString(
        file,
        config
            + "\nportcullis.listener.port = "
            + port
            + "\nportcullis.admin.enabled = false\npekko.remote.artery.canonical.port = 0\n");
    Path log = dir.resolve(name + ".log");
    Process process =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx256m",
                    "-cp",
                    System.getProperty("java.class.path"),
                    "io.portcullis.node.cli.PortcullisCommand",
                    "run",
                    "--config",
                    file.toString()))
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    GatewayProcess gateway = new GatewayProcess(process, port, log);
    gateway.awaitListening();
    return gateway;
  }

  public int port() {
    return port;
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port + "/main";
  }

  /** Ends the node at once, without any chance to flush or close: SIGKILL. */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  @Override
  public void close() {
    process.destroyForcibly();
  }

  private void awaitListening() throws Exception {
    long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the gateway exited at start:\n" + Files.readString(log));
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    kill();
    throw new IllegalStateException(
        "the gateway did not listen within " + START_TIMEOUT + ":\n" + Files.readString(log));
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
