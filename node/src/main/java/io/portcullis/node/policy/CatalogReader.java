package io.portcullis.node.policy;

import io.portcullis.node.config.TargetSettings;
import io.portcullis.node.config.TargetSettings.TlsMode;
import io.portcullis.policy.catalog.CatalogDependencies;
import io.portcullis.policy.catalog.CatalogDependencies.References;
import io.portcullis.policy.catalog.Relations;
import io.portcullis.policy.catalog.Relations.Relation;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;

/**
 * Reads from an upstream database's catalog what its views, materialized views and SQL functions
 * are built on. Views and SQL functions with a {@code BEGIN ATOMIC} or {@code RETURN} body are
 * followed through {@code pg_depend}, which PostgreSQL keeps exact; SQL functions with a string
 * body have no dependencies recorded, so their text is analysed like a client's statement.
 */
public final class CatalogReader {

  /**
   * What views and SQL functions with a parsed body reference, from {@code pg_depend}: one row per
   * relation read ({@code call} false) or function called.
   */
  private static final String REFERENCES =
      """
      WITH dependent AS (
        SELECT 'pg_rewrite'::regclass::oid AS classid, w.oid AS objid, v.oid AS self,
               true AS view, n.nspname || '.' || v.relname AS name
          FROM pg_rewrite w
          JOIN pg_class v ON v.oid = w.ev_class AND v.relkind IN ('v', 'm')
          JOIN pg_namespace n ON n.oid = v.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg_toast%'
        UNION ALL
        SELECT 'pg_proc'::regclass::oid, p.oid, 0, false, n.nspname || '.' || p.proname
          FROM pg_proc p
          JOIN pg_namespace n ON n.oid = p.pronamespace
          JOIN pg_language l ON l.oid = p.prolang AND l.lanname = 'sql'
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
           AND n.nspname NOT LIKE 'pg_toast%'
      )
      SELECT DISTINCT dependent.view, dependent.name, f.oid IS NOT NULL AS call,
             coalesce(rn.nspname || '.' || r.relname, fn.nspname || '.' || f.proname) AS reference
        FROM dependent
        JOIN pg_depend d
          ON d.classid = dependent.classid AND d.objid = dependent.objid AND d.deptype = 'n'
        LEFT JOIN pg_class r
          ON d.refclassid = 'pg_class'::regclass AND r.oid = d.refobjid
         AND r.oid <> dependent.self AND r.relkind IN ('r', 'p', 'f', 'v', 'm')
        LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
        LEFT JOIN pg_proc f ON d.refclassid = 'pg_proc'::regclass AND f.oid = d.refobjid
        LEFT JOIN pg_namespace fn ON fn.oid = f.pronamespace
       WHERE r.oid IS NOT NULL OR f.oid IS NOT NULL
      """;

  /**
   * Every function and procedure outside the system schemas, with its body: the deparsed {@code
   * BEGIN ATOMIC} body where there is one (PostgreSQL 14 and later), else its source text.
   */
  private static final String FUNCTIONS =
      """
      SELECT n.nspname || '.' || p.proname AS name, l.lanname = 'sql' AS sql, p.prosrc,
             %s AS parsed_body,
             (SELECT substr(c, length('search_path=') + 1) FROM unnest(p.proconfig) c
               WHERE c LIKE 'search_path=%%' LIMIT 1) AS search_path
        FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        JOIN pg_language l ON l.oid = p.prolang
       WHERE p.prokind IN ('f', 'p')
         AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         AND n.nspname NOT LIKE 'pg_toast%%'
      """;

  /**
   * Every column of every user table, view and foreign table, by relation OID, with the table at
   * the top of each partition's or inheritance child's tree.
   */
  private static final String COLUMNS =
      """
      SELECT c.oid, n.nspname, c.relname, c.relkind, a.attnum, a.attname, a.atttypid, a.attisdropped,
             a.attgenerated <> '' AS generated, rn.nspname AS root_schema, r.relname AS root_name
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0
        LEFT JOIN LATERAL (
          WITH RECURSIVE up(oid, depth) AS (
            SELECT c.oid, 0
            UNION ALL
            SELECT i.inhparent, up.depth + 1 FROM pg_inherits i JOIN up ON i.inhrelid = up.oid
          )
          SELECT oid FROM up WHERE depth > 0 ORDER BY depth DESC LIMIT 1
        ) top ON true
        LEFT JOIN pg_class r ON r.oid = top.oid
        LEFT JOIN pg_namespace rn ON rn.oid = r.relnamespace
       WHERE c.relkind IN ('r', 'p', 'f', 'v', 'm')
         AND n.nspname NOT IN ('pg_catalog', 'information_schema')
         AND n.nspname NOT LIKE 'pg_toast%'
       ORDER BY c.oid, a.attnum
      """;

  private static final String BEGIN_ATOMIC = "BEGIN ATOMIC";

  private CatalogReader() {}

  /** Connects to the target as the gateway's own login and reads its catalog. */
  public static TargetCatalog load(TargetSettings target) throws SQLException {
    try (Connection connection = connect(target)) {
      return new TargetCatalog(read(connection), relations(connection));
    }
  }

  /** Reads every relation's columns; leaves the connection's transaction ended. */
  public static Relations relations(Connection connection) throws SQLException {
    Map<Integer, Relation> relations = new HashMap<>();
    connection.setAutoCommit(false);
    connection.setReadOnly(true);
    try (Statement statement = connection.createStatement()) {
      statement.execute("SET LOCAL statement_timeout = '10s'");
      try (ResultSet rows = statement.executeQuery(COLUMNS)) {
        int oid = 0;
        List<String> columns = null;
        List<Integer> types = null;
        Set<Integer> generated = null;
        while (rows.next()) {
          if (columns == null || rows.getInt("oid") != oid) {
            oid = rows.getInt("oid");
            columns = new ArrayList<>();
            types = new ArrayList<>();
            generated = new HashSet<>();
            relations.put(
                oid,
                new Relation(
                    rows.getString("nspname"),
                    rows.getString("relname"),
                    Relations.Kind.of(rows.getString("relkind").charAt(0)),
                    columns,
                    types,
                    generated,
                    root(rows.getString("root_schema"), rows.getString("root_name"))));
          }
          // Numbers are dense from 1 (dropped columns keep theirs), so the list index is number -
          // 1.
          boolean dropped = rows.getBoolean("attisdropped");
          columns.add(dropped ? null : rows.getString("attname"));
          types.add(dropped ? 0 : rows.getInt("atttypid"));
          if (rows.getBoolean("generated")) {
            generated.add(rows.getInt("attnum"));
          }
        }
      }
    } finally {
      connection.rollback();
    }
    return Relations.of(relations);
  }

  public static Connection connect(TargetSettings target) throws SQLException {
    Properties properties = new Properties();
    properties.setProperty("user", target.user());
    target.password().resolve().ifPresent(password -> properties.setProperty("password", password));
    properties.setProperty("ApplicationName", "portcullis-catalog");
    properties.setProperty(
        "connectTimeout", String.valueOf(Math.max(1, target.connectTimeout().toSeconds())));
    // Longer than the statement timeout: only a dead connection waits this long.
    properties.setProperty("socketTimeout", "30");
    properties.setProperty("sslmode", sslMode(target.tls().mode()));
    if (target.tls().mode() == TlsMode.VERIFY_FULL) {
      properties.setProperty("sslrootcert", target.tls().caFile().orElseThrow().toString());
    }
    String host = target.host().contains(":") ? "[" + target.host() + "]" : target.host();
    return DriverManager.getConnection(
        "jdbc:postgresql://" + host + ":" + target.port() + "/" + target.database(), properties);
  }

  private static String sslMode(TlsMode mode) {
    return switch (mode) {
      case DISABLE -> "disable";
      case REQUIRE -> "require";
      case VERIFY_FULL -> "verify-full";
    };
  }

  /** Reads the catalog in one read-only transaction; leaves the connection's transaction ended. */
  public static CatalogDependencies read(Connection connection) throws SQLException {
    String parsedBody =
        connection.getMetaData().getDatabaseMajorVersion() >= 14
            ? "CASE WHEN p.prosqlbody IS NOT NULL THEN pg_get_function_sqlbody(p.oid) END"
            : "NULL::text";
    Map<String, References> views = new HashMap<>();
    Map<String, References> functions = new HashMap<>();
    Set<String> opaque = new HashSet<>();
    connection.setAutoCommit(false);
    connection.setReadOnly(true);
    try (Statement statement = connection.createStatement()) {
      statement.execute("SET LOCAL statement_timeout = '10s'");
      // Deparsed bodies then name every relation and function outside pg_catalog with its schema.
      statement.execute("SET LOCAL search_path = pg_catalog");
      try (ResultSet rows = statement.executeQuery(REFERENCES)) {
        while (rows.next()) {
          Set<String> reference = Set.of(rows.getString("reference"));
          References found =
              rows.getBoolean("call")
                  ? new References(Set.of(), Set.of(), reference)
                  : new References(reference, Set.of(), Set.of());
          (rows.getBoolean("view") ? views : functions)
              .merge(rows.getString("name"), found, References::plus);
        }
      }
      SqlAnalyzer analyzer = new SqlAnalyzer();
      try (ResultSet rows = statement.executeQuery(FUNCTIONS.formatted(parsedBody))) {
        while (rows.next()) {
          String name = rows.getString("name");
          if (!rows.getBoolean("sql")) {
            opaque.add(name);
            continue;
          }
          String parsed = rows.getString("parsed_body");
          if (parsed != null) {
            functions.merge(name, writesOf(analyzer, parsed), References::plus);
            continue;
          }
          List<StatementAnalysis> body = analyzer.analyze(rows.getString("prosrc"), true);
          if (body.stream().anyMatch(StatementAnalysis::isUnparsed)) {
            opaque.add(name);
          }
          SearchPath path = SearchPath.parse(rows.getString("search_path"));
          functions.merge(name, path.references(body), References::plus);
        }
      }
    } finally {
      connection.rollback();
    }
    return CatalogDependencies.of(views, functions, opaque);
  }

  private static Optional<Relations.Name> root(String schema, String name) {
    return name == null ? Optional.empty() : Optional.of(new Relations.Name(schema, name));
  }

  /**
   * The relations a parsed body writes; {@code pg_depend} lists what it references without saying
   * which are written. A {@code RETURN} body cannot write.
   */
  private static References writesOf(SqlAnalyzer analyzer, String parsedBody) {
    String body = parsedBody.strip();
    if (!body.startsWith(BEGIN_ATOMIC) || !body.endsWith("END")) {
      return new References(Set.of(), Set.of(), Set.of());
    }
    String statements = body.substring(BEGIN_ATOMIC.length(), body.length() - "END".length());
    Set<String> writes = new HashSet<>();
    for (StatementAnalysis analysis : analyzer.analyze(statements, true)) {
      writes.addAll(analysis.tablesWritten());
    }
    return new References(Set.of(), writes, Set.of());
  }

  /**
   * A function's own {@code search_path} setting: an unqualified name in its body is looked for in
   * each of these schemas (and in pg_catalog, searched first unless listed). Without a setting the
   * caller's path applies, unknown here, so names stay unqualified and stand for every schema.
   */
  private record SearchPath(List<String> schemas, boolean keepUnqualified) {

    static SearchPath parse(String setting) {
      if (setting == null) {
        return new SearchPath(List.of(), true);
      }
      List<String> schemas = new ArrayList<>();
      boolean user = false;
      for (String entry : setting.split(",")) {
        String schema = entry.strip();
        if (schema.length() >= 2 && schema.startsWith("\"") && schema.endsWith("\"")) {
          schema = schema.substring(1, schema.length() - 1).replace("\"\"", "\"");
        }
        if (schema.equals("$user")) {
          user = true;
        } else if (!schema.isEmpty()) {
          schemas.add(schema);
        }
      }
      if (!schemas.contains("pg_catalog")) {
        schemas.add("pg_catalog");
      }
      // "$user" is the role calling the function, so any schema.
      return new SearchPath(List.copyOf(schemas), user);
    }

    References references(List<StatementAnalysis> body) {
      Set<String> reads = new HashSet<>();
      Set<String> writes = new HashSet<>();
      Set<String> calls = new HashSet<>();
      for (StatementAnalysis statement : body) {
        resolve(statement.tablesRead(), reads);
        resolve(statement.tablesWritten(), writes);
        resolve(statement.functions(), calls);
      }
      return new References(reads, writes, calls);
    }

    private void resolve(Set<String> names, Set<String> into) {
      for (String name : names) {
        boolean qualified = name.indexOf('.') > 0;
        if (qualified || keepUnqualified) {
          into.add(name);
        }
        if (!qualified) {
          for (String schema : schemas) {
            into.add(schema + "." + name);
          }
        }
      }
    }
  }
}
