package io.portcullis.node.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A gateway node in a JVM of its own, started with {@code portcullis run} as an operator would, so
 * that a test can kill it as the operating system would ({@code kill -9}) or stop it gracefully
 * (SIGTERM). Started from the shaded jar when the build names it (system property {@code
 * portcullis.jar}, set for the integration tests), else from the test class path.
 */
public final class GatewayProcess implements AutoCloseable {

  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** The node's ports on 127.0.0.1. */
  public record Ports(int listener, int management, int admin, int cluster) {

    public static Ports free() throws IOException {
      return new Ports(freePort(), freePort(), freePort(), freePort());
    }

    /** The node's address in the Pekko cluster, as seed-nodes lists it. */
    public String clusterAddress() {
      return "pekko://portcullis@127.0.0.1:" + cluster;
    }
  }

  private final Process process;
  private final Ports ports;
  private final Path log;

  private GatewayProcess(Process process, Ports ports, Path log) {
    this.process = process;
    this.ports = ports;
    this.log = log;
  }

  /**
   * Starts a node whose configuration is {@code config} (HOCON, see {@link TestGateway#config}) on
   * free ports, and waits until it accepts connections.
   */
  public static GatewayProcess start(Path dir, String name, String config) throws Exception {
    return start(dir, name, config, Ports.free(), Map.of());
  }

  /** As {@link #start(Path, String, String)}, on the given ports and with extra environment. */
  public static GatewayProcess start(
      Path dir, String name, String config, Ports ports, Map<String, String> environment)
      throws Exception {
    Path file = dir.resolve(name + ".conf");
    Files.writeString(
        file,
        config
            + """

            portcullis.listener.port = %d
            pekko.management.http.port = %d
            portcullis.admin.port = %d
            pekko.remote.artery.canonical.port = %d
            """
                .formatted(ports.listener(), ports.management(), ports.admin(), ports.cluster()));
    Path log = dir.resolve(name + ".log");
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx256m");
    String jar = System.getProperty("portcullis.jar", "");
    if (jar.isEmpty()) {
      command.addAll(
          List.of(
              // Logs as the jar does (logback.xml, PORTCULLIS_LOG_*), not as the tests do.
              "-Dlogback.configurationFile=" + GatewayProcess.class.getResource("/logback.xml"),
              "-cp",
              System.getProperty("java.class.path"),
              "io.portcullis.node.cli.PortcullisCommand"));
    } else {
      command.addAll(List.of("-jar", jar));
    }
    command.addAll(List.of("run", "--config", file.toString()));
    ProcessBuilder builder =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().putAll(environment);
    GatewayProcess gateway = new GatewayProcess(builder.start(), ports, log);
    gateway.awaitListening();
    return gateway;
  }

  public Ports ports() {
    return ports;
  }

  public int port() {
    return ports.listener();
  }

  public String jdbcUrl() {
    return "jdbc:postgresql://127.0.0.1:" + port() + "/main";
  }

  public String adminUrl() {
    return "http://127.0.0.1:" + ports.admin();
  }

  /** The HTTP status of a management path such as /ready, or -1 when nothing answers. */
  public int management(String path) throws InterruptedException {
    try {
      return HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.management() + path))
                  .timeout(Duration.ofSeconds(3))
                  .build(),
              HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException unreachable) {
      return -1;
    }
  }

  /** The JSON a management path such as /cluster/members answers, or null when nothing does. */
  public JsonNode managementJson(String path) throws InterruptedException {
    try {
      HttpResponse<String> response =
          HTTP.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports.management() + path))
                  .timeout(Duration.ofSeconds(3))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      return response.statusCode() == 200 ? JSON.readTree(response.body()) : null;
    } catch (IOException unreachable) {
      return null;
    }
  }

  public String log() throws IOException {
    return Files.readString(log);
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** Asks the node to stop, as an orchestrator does: SIGTERM. */
  public void terminate() {
    process.destroy();
  }

  /** Waits for the node to exit; false if it is still running after {@code timeout}. */
  public boolean awaitExit(Duration timeout) throws InterruptedException {
    return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
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
        throw new IllegalStateException("the gateway exited at start:\n" + log());
      }
      try (Socket socket = new Socket()) {
        socket.connect(new InetSocketAddress("127.0.0.1", port()), 200);
        return;
      } catch (IOException notYet) {
        Thread.sleep(100);
      }
    }
    kill();
    throw new IllegalStateException(
        "the gateway did not listen within " + START_TIMEOUT + ":\n" + log());
  }

  /**
   * A port that is free now, chosen below Linux's ephemeral range (32768 and up): a port the kernel
   * handed out for {@code new ServerSocket(0)} can be handed out again as the local port of an
   * outgoing connection (another node's JDBC or cluster connection) before the node binds it.
   */
  public static int freePort() throws IOException {
    for (int attempt = 0; attempt < 100; attempt++) {
      int candidate = 20_000 + ThreadLocalRandom.current().nextInt(12_000);
      try (ServerSocket socket = new ServerSocket()) {
        socket.bind(new InetSocketAddress("127.0.0.1", candidate));
        return candidate;
      } catch (IOException taken) {
        // try another
      }
    }
    throw new IOException("no free port in 20000-31999 after 100 attempts");
  }
}
