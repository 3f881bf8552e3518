package io.portcullis.node.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The real PostgreSQL every integration test talks to: the server named by {@code
 * PORTCULLIS_TEST_PG_URL} (postgresql://user:password@host:port) or the {@code PG*} variables if
 * set; else 127.0.0.1:5432 if it answers; else a Testcontainers PostgreSQL where Docker exists.
 * Fails with a clear message when none is available.
 */
public final class TestPostgres {

  /** The database the tests own; created on first use. */
  public static final String DATABASE = "portcullis_it";

  public record Server(String host, int port, String user, String password) {
    public String jdbcUrl(String database) {
      return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }
  }

  private static Server server;

  private TestPostgres() {}

  public static synchronized Server server() {
    if (server == null) {
      server = locate();
      createDatabase(server);
    }
    return server;
  }

  /** A direct connection, bypassing the gateway, to the tests' database. */
  public static Connection direct() throws SQLException {
    return direct(DATABASE);
  }

  public static Connection direct(String database) throws SQLException {
    Server s = server();
    Properties props = new Properties();
    props.setProperty("user", s.user());
    props.setProperty("password", s.password());
    return DriverManager.getConnection(s.jdbcUrl(database), props);
  }

  /** Drops {@code database} if it exists, with its connections, and creates it empty. */
  public static void recreateDatabase(String database) throws SQLException {
    try (Connection postgres = direct("postgres");
        Statement statement = postgres.createStatement()) {
      statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
      statement.execute("CREATE DATABASE " + database);
    }
  }

  private static Server locate() {
    Map<String, String> env = System.getenv();
    String url = env.get("PORTCULLIS_TEST_PG_URL");
    if (url != null && !url.isBlank()) {
      URI uri = URI.create(url);
      String[] userInfo = Optional.ofNullable(uri.getUserInfo()).orElse("postgres").split(":", 2);
      return new Server(
          uri.getHost(),
          uri.getPort() > 0 ? uri.getPort() : 5432,
          userInfo[0],
          userInfo.length > 1 ? userInfo[1] : "");
    }
    if (env.containsKey("PGHOST") || env.containsKey("PGPORT")) {
      return new Server(
          env.getOrDefault("PGHOST", "127.0.0.1"),
          Integer.parseInt(env.getOrDefault("PGPORT", "5432")),
          env.getOrDefault("PGUSER", "postgres"),
          env.getOrDefault("PGPASSWORD", ""));
    }
    if (answers("127.0.0.1", 5432)) {
      return new Server("127.0.0.1", 5432, "postgres", "");
    }
    if (dockerAvailable()) {
      PostgreSQLContainer container = new PostgreSQLContainer("postgres:15");
      container.start();
      return new Server(
          container.getHost(),
          container.getMappedPort(5432),
          container.getUsername(),
          container.getPassword());
    }
    throw new IllegalStateException(
        "no PostgreSQL for the tests: set PORTCULLIS_TEST_PG_URL, start one on 127.0.0.1:5432"
            + " (bin/test does), or install Docker");
  }

  private static boolean answers(String host, int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(host, port), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static void createDatabase(Server s) {
    Properties props = new Properties();
    props.setProperty("user", s.user());
    props.setProperty("password", s.password());
    try (Connection c = DriverManager.getConnection(s.jdbcUrl("postgres"), props);
        Statement st = c.createStatement()) {
      var rs = st.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'");
      if (!rs.next()) {
        st.execute("CREATE DATABASE " + DATABASE);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("cannot prepare the test database on " + s, e);
    }
  }
}
