package io.portcullis.persistence.journal;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The database the journal lives in: PostgreSQL for a cluster, an embedded H2 file for a single
 * node. Everything Pekko needs follows from its JDBC URL.
 */
public record JournalDatabase(String url, String user, String password, boolean createSchema) {

  private static final String SLICK = "pekko-persistence-jdbc.shared-databases.slick";
  private static final Pattern POSTGRES_LOCATION =
      Pattern.compile("jdbc:postgresql://(\\[[^\\]]+\\]|[^/:?]+)(?::(\\d+))?/([^?]+)");

  private enum Kind {
    POSTGRESQL(
        "jdbc:postgresql:",
        "slick.jdbc.PostgresProfile$",
        "org.postgresql.Driver",
        "journal-postgres.sql",
        // Nodes of a cluster that start together create the schema one after the other: two
        // concurrent CREATE TABLE IF NOT EXISTS can both try to create the table.
        "SELECT pg_advisory_xact_lock(7355)"),
    H2("jdbc:h2:", "slick.jdbc.H2Profile$", "org.h2.Driver", "journal-h2.sql", "SELECT 1");

    final String prefix;
    final String profile;
    final String driver;
    final String schema;
    final String schemaLock;

    Kind(String prefix, String profile, String driver, String schema, String schemaLock) {
      this.prefix = prefix;
      this.profile = profile;
      this.driver = driver;
      this.schema = schema;
      this.schemaLock = schemaLock;
    }
  }

  public JournalDatabase {
    kind(url);
  }

  /** Reads {@code portcullis.journal}. */
  public static JournalDatabase from(Config root) {
    Config journal = root.getConfig("portcullis.journal");
    try {
      return new JournalDatabase(
          journal.getString("url"),
          journal.getString("user"),
          journal.getString("password"),
          journal.getBoolean("create-schema"));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(
          journal.origin(), "portcullis.journal.url", e.getMessage());
    }
  }

  /**
   * {@code config} with the journal ({@link GroupCommitJournal}) writing to this database, and the
   * snapshot store and read journal of pekko-persistence-jdbc sharing one connection pool to it.
   * Set here rather than in {@code reference.conf}, where the plugin's own defaults could override
   * them depending on the order of jars on the class path.
   */
  public Config applyTo(Config config) {
    Kind kind = kind(url);
    Map<String, Object> settings = new LinkedHashMap<>();
    settings.put("pekko.persistence.journal.plugin", GroupCommitJournal.PLUGIN_ID);
    // Started with the actor system, connected before the first session needs it.
    settings.put(
        "pekko.persistence.journal.auto-start-journals", List.of(GroupCommitJournal.PLUGIN_ID));
    settings.put(GroupCommitJournal.PLUGIN_ID + ".url", connectionUrl());
    settings.put(GroupCommitJournal.PLUGIN_ID + ".user", user);
    settings.put(GroupCommitJournal.PLUGIN_ID + ".password", password);
    settings.put("pekko.persistence.snapshot-store.plugin", "jdbc-snapshot-store");
    for (String plugin : List.of("jdbc-snapshot-store", "jdbc-read-journal")) {
      settings.put(plugin + ".use-shared-db", "slick");
    }
    // The read journal takes its event adapters (none) from the write journal, which it would
    // otherwise start: pekko-persistence-jdbc's own.
    settings.put("jdbc-read-journal.write-plugin", GroupCommitJournal.PLUGIN_ID);
    settings.put(SLICK + ".profile", kind.profile);
    settings.put(SLICK + ".db.url", connectionUrl());
    settings.put(SLICK + ".db.user", user);
    settings.put(SLICK + ".db.password", password);
    settings.put(SLICK + ".db.driver", kind.driver);
    settings.put(SLICK + ".db.exceptionOverrideClassName", ClosedDatabaseEviction.class.getName());
    return ConfigFactory.parseMap(settings).withFallback(config);
  }

  /**
   * The URL as connections use it: pgjdbc sends a batch of inserts as one multi-row INSERT; H2
   * writes each commit to its file before it returns (by default it acknowledges commits up to half
   * a second before writing them, which a killed process would lose), and stays open at SIGTERM
   * until the gateway has drained (by default its own shutdown hook closes it at once, and the
   * drained sessions' last records and the ledger's last checkpoint failed).
   */
  private String connectionUrl() {
    if (kind(url) == Kind.POSTGRESQL) {
      return url.contains("reWriteBatchedInserts")
          ? url
          : url + (url.contains("?") ? "&" : "?") + "reWriteBatchedInserts=true";
    }
    String upper = url.toUpperCase(Locale.ROOT);
    return url
        + (upper.contains("WRITE_DELAY") ? "" : ";WRITE_DELAY=0")
        + (upper.contains("DB_CLOSE_ON_EXIT") ? "" : ";DB_CLOSE_ON_EXIT=FALSE");
  }

  /**
   * Whether the journal is stored in this PostgreSQL database: the same host (as written), port and
   * database name.
   */
  public boolean isStoredIn(String host, int port, String database) {
    Matcher location = POSTGRES_LOCATION.matcher(url);
    if (!location.lookingAt()) {
      return false;
    }
    int journalPort = location.group(2) == null ? 5432 : Integer.parseInt(location.group(2));
    return location.group(1).equalsIgnoreCase(host.contains(":") ? "[" + host + "]" : host)
        && journalPort == port
        && location.group(3).equals(database);
  }

  /**
   * How long the journal's own connections (its writer's and its recoveries') wait for the database
   * to answer before they fail and are replaced. Without it, a journal whose network stops passing
   * packets, with no reset, holds them until the kernel gives up on the socket (about 15 minutes on
   * Linux): every session's statements are refused meanwhile, and new sessions cannot start.
   * Shorter than the audit indexer's gap timeout, so a write that has not been answered has failed
   * before the index skips its ordering.
   */
  public static final Duration ANSWER_TIMEOUT = Duration.ofSeconds(5);

  /** A connection to the journal database: one to read it with. */
  public Connection connect() throws SQLException {
    return DriverManager.getConnection(connectionUrl(), user, password);
  }

  /**
   * A connection for the journal's own writes and recoveries, failing after {@link
   * #ANSWER_TIMEOUT}.
   */
  public Connection connectForJournal() throws SQLException {
    Connection connection = connect();
    try {
      // An embedded H2 database has no network; H2 ignores it.
      connection.setNetworkTimeout(Runnable::run, (int) ANSWER_TIMEOUT.toMillis());
      return connection;
    } catch (SQLException e) {
      connection.close();
      throw e;
    }
  }

  /** Creates the journal's tables where they do not exist yet. */
  public void ensureSchema() throws SQLException {
    if (!createSchema) {
      return;
    }
    Kind kind = kind(url);
    String ddl = schemaText(kind.schema);
    try (Connection connection = connect();
        Statement statement = connection.createStatement()) {
      connection.setAutoCommit(false);
      statement.execute(kind.schemaLock);
      for (String part : ddl.split(";\\s*\\n")) {
        String sql =
            part.lines().filter(line -> !line.startsWith("--")).reduce("", (a, b) -> a + b + "\n");
        if (!sql.isBlank()) {
          statement.execute(sql);
        }
      }
      connection.commit();
    }
  }

  private static String schemaText(String resource) {
    try (InputStream in =
        JournalDatabase.class.getResourceAsStream("/io/portcullis/persistence/" + resource)) {
      if (in == null) {
        throw new IllegalStateException("journal schema " + resource + " is missing from the jar");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read journal schema " + resource, e);
    }
  }

  private static Kind kind(String url) {
    for (Kind kind : Kind.values()) {
      if (url.startsWith(kind.prefix)) {
        return kind;
      }
    }
    throw new IllegalArgumentException(
        "the journal must be PostgreSQL (jdbc:postgresql://…) or an embedded H2 file (jdbc:h2:file:…), not "
            + url.replaceAll("//[^/@]*@", "//…@"));
  }
}
