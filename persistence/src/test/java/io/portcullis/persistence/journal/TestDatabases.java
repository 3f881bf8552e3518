package io.portcullis.persistence.journal;

import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;

/**
 * Fresh journal databases for the tests: PostgreSQL at {@code PORTCULLIS_TEST_PG_URL}
 * (postgresql://user:password@host:port), else at the {@code PG*} variables, else at
 * 127.0.0.1:5432; or an H2 file.
 */
final class TestDatabases {

  private record Server(String host, int port, String user, String password) {
    String jdbcUrl(String database) {
      return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }
  }

  private static final Server SERVER = locate();

  private TestDatabases() {}

  /** An empty PostgreSQL journal database named {@code name}, with its tables. */
  static JournalDatabase postgres(String name) throws SQLException {
    try (Connection admin = admin();
        Statement statement = admin.createStatement()) {
      statement.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      statement.execute("CREATE DATABASE " + name);
    }
    JournalDatabase database =
        new JournalDatabase(SERVER.jdbcUrl(name), SERVER.user(), SERVER.password(), true);
    database.ensureSchema();
    return database;
  }

  /** An empty H2 journal database in {@code directory}, with its tables. */
  static JournalDatabase h2(Path directory) throws SQLException {
    JournalDatabase database =
        new JournalDatabase(
            "jdbc:h2:file:" + directory.resolve("journal").toAbsolutePath(),
            "portcullis",
            "",
            true);
    database.ensureSchema();
    return database;
  }

  /** A connection to the server's {@code postgres} database, to manage the others. */
  static Connection admin() throws SQLException {
    return DriverManager.getConnection(
        SERVER.jdbcUrl("postgres"), SERVER.user(), SERVER.password());
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
    return new Server(
        env.getOrDefault("PGHOST", "127.0.0.1"),
        Integer.parseInt(env.getOrDefault("PGPORT", "5432")),
        env.getOrDefault("PGUSER", "postgres"),
        env.getOrDefault("PGPASSWORD", ""));
  }
}
