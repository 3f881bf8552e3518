package io.portcullis.node.conformance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.postgresql.copy.CopyManager;
import org.postgresql.largeobject.LargeObject;
import org.postgresql.largeobject.LargeObjectManager;

/** pgjdbc through the gateway behaves as it does against PostgreSQL directly. */
class JdbcConformanceTest {

  private static GatewayNode gateway;

  @BeforeAll
  static void start() throws Exception {
    gateway = TestGateway.start();
    try (Connection c = TestPostgres.direct();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS conformance_items");
      s.execute("CREATE TABLE conformance_items (id int PRIMARY KEY, name text, price numeric)");
    }
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  @Test
  void simpleQueriesAndErrorsMatchDirect() throws Exception {
    List<String> statements =
        List.of(
            "SELECT 1 AS one, 'two'::text AS two, NULL::int AS nothing",
            "SELECT g, g * 2 FROM generate_series(1, 50) g",
            "SELECT 1/0",
            "SELECT * FROM no_such_table",
            "SELECT now() > '2000-01-01'::timestamptz",
            "SELECT ARRAY[1,2,3], '{\"a\":1}'::jsonb, 'x'::bytea, 1.5::float8",
            "SELECT current_setting('client_encoding'), current_setting('DateStyle')");
    try (Connection direct = TestPostgres.direct();
        Connection viaGateway = TestGateway.connect(gateway)) {
      for (String sql : statements) {
        assertThat(ResultComparison.run(viaGateway, sql))
            .as(sql)
            .isEqualTo(ResultComparison.run(direct, sql));
      }
    }
  }

  @Test
  void preparedStatementsWithServerPrepareAndBinaryTransfer() throws Exception {
    try (Connection c =
            TestGateway.connect(gateway, "alice", "prepareThreshold=1&binaryTransfer=true");
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO conformance_items VALUES (?, ?, ?) ON CONFLICT DO NOTHING");
        PreparedStatement select =
            c.prepareStatement("SELECT id, name, price FROM conformance_items WHERE id = ?")) {
      for (int i = 1000; i < 1010; i++) {
        insert.setInt(1, i);
        insert.setString(2, "item " + i);
        insert.setBigDecimal(
            3, new java.math.BigDecimal("1.25").multiply(java.math.BigDecimal.valueOf(i)));
        insert.executeUpdate();
      }
      for (int i = 1000; i < 1010; i++) {
        select.setInt(1, i);
        try (ResultSet rs = select.executeQuery()) {
          assertThat(rs.next()).isTrue();
          assertThat(rs.getInt(1)).isEqualTo(i);
          assertThat(rs.getString(2)).isEqualTo("item " + i);
          assertThat(rs.getBigDecimal(3))
              .isEqualByComparingTo(
                  new java.math.BigDecimal("1.25").multiply(java.math.BigDecimal.valueOf(i)));
        }
      }
    }
  }

  @Test
  void batchesArePipelined() throws Exception {
    try (Connection c = TestGateway.connect(gateway);
        PreparedStatement insert =
            c.prepareStatement(
                "INSERT INTO conformance_items VALUES (?, ?, 0) ON CONFLICT (id) DO UPDATE SET name = excluded.name")) {
      for (int i = 2000; i < 2500; i++) {
        insert.setInt(1, i);
        insert.setString(2, "batch " + i);
        insert.addBatch();
      }
      int[] counts = insert.executeBatch();
      assertThat(counts).hasSize(500).containsOnly(1);
    }
    try (Connection c = TestPostgres.direct();
        ResultSet rs =
            c.createStatement()
                .executeQuery(
                    "SELECT count(*) FROM conformance_items WHERE id BETWEEN 2000 AND 2499")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(500);
    }
  }

  @Test
  void fetchSizeStreamsThroughPortals() throws Exception {
    try (Connection c = TestGateway.connect(gateway)) {
      c.setAutoCommit(false);
      try (Statement s = c.createStatement()) {
        s.setFetchSize(100);
        long sum = 0;
        int rows = 0;
        try (ResultSet rs = s.executeQuery("SELECT g FROM generate_series(1, 10000) g")) {
          while (rs.next()) {
            sum += rs.getLong(1);
            rows++;
          }
        }
        assertThat(rows).isEqualTo(10000);
        assertThat(sum).isEqualTo(10000L * 10001 / 2);
      }
      c.commit();
    }
  }

  @Test
  void copyInAndOut() throws Exception {
    try (Connection c = TestGateway.connect(gateway)) {
      c.createStatement().execute("DROP TABLE IF EXISTS conformance_copy");
      c.createStatement().execute("CREATE TABLE conformance_copy (id int, note text)");
      CopyManager copy = c.unwrap(PGConnection.class).getCopyAPI();
      StringBuilder csv = new StringBuilder();
      for (int i = 0; i < 5000; i++) {
        csv.append(i).append(",\"note, ").append(i).append("\"\n");
      }
      long in =
          copy.copyIn(
              "COPY conformance_copy FROM STDIN (FORMAT csv)",
              new ByteArrayInputStream(csv.toString().getBytes(StandardCharsets.UTF_8)));
      assertThat(in).isEqualTo(5000);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      long outRows =
          copy.copyOut(
              "COPY (SELECT * FROM conformance_copy ORDER BY id) TO STDOUT (FORMAT csv)", out);
      assertThat(outRows).isEqualTo(5000);
      assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(csv.toString());
      ByteArrayOutputStream binary = new ByteArrayOutputStream();
      copy.copyOut("COPY conformance_copy TO STDOUT (FORMAT binary)", binary);
      assertThat(binary.toByteArray()).startsWith("PGCOPY\n".getBytes(StandardCharsets.US_ASCII));
      c.createStatement()
          .execute("CREATE TEMP TABLE conformance_copy_binary (LIKE conformance_copy)");
      assertThat(
              copy.copyIn(
                  "COPY conformance_copy_binary FROM STDIN (FORMAT binary)",
                  new ByteArrayInputStream(binary.toByteArray())))
          .isEqualTo(5000);
      assertThatThrownBy(
              () ->
                  copy.copyIn(
                      "COPY conformance_copy FROM STDIN (FORMAT csv)",
                      new ByteArrayInputStream(
                          "not-a-number,x\n".getBytes(StandardCharsets.UTF_8))))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("invalid input syntax");
      // The session is still usable after a failed COPY.
      try (ResultSet rs =
          c.createStatement().executeQuery("SELECT count(*) FROM conformance_copy")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(5000);
      }
    }
  }

  @Test
  void listenNotifyDeliversAsynchronousNotifications() throws Exception {
    try (Connection listener = TestGateway.connect(gateway);
        Connection notifier = TestGateway.connect(gateway, "bob", "")) {
      listener.createStatement().execute("LISTEN conformance_channel");
      notifier.createStatement().execute("NOTIFY conformance_channel, 'hello through the gateway'");
      PGNotification[] notifications = listener.unwrap(PGConnection.class).getNotifications(5000);
      assertThat(notifications).hasSize(1);
      assertThat(notifications[0].getName()).isEqualTo("conformance_channel");
      assertThat(notifications[0].getParameter()).isEqualTo("hello through the gateway");
    }
  }

  @Test
  void statementCancelStopsALongQuery() throws Exception {
    try (Connection c = TestGateway.connect(gateway);
        Statement s = c.createStatement()) {
      CompletableFuture<Void> cancel =
          CompletableFuture.runAsync(
              () -> {
                try {
                  TimeUnit.MILLISECONDS.sleep(500);
                  s.cancel();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              });
      long started = System.nanoTime();
      assertThatThrownBy(() -> s.execute("SELECT pg_sleep(30)"))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("57014"));
      cancel.get();
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
      try (ResultSet rs = s.executeQuery("SELECT 42")) {
        rs.next();
        assertThat(rs.getInt(1)).isEqualTo(42);
      }
    }
  }

  @Test
  void savepointsAndTransactionStatus() throws Exception {
    try (Connection c = TestGateway.connect(gateway)) {
      c.setAutoCommit(false);
      Statement s = c.createStatement();
      s.execute("INSERT INTO conformance_items VALUES (3000, 'kept', 1)");
      Savepoint savepoint = c.setSavepoint();
      s.execute("INSERT INTO conformance_items VALUES (3001, 'rolled back', 1)");
      assertThatThrownBy(
              () -> s.execute("INSERT INTO conformance_items VALUES (3000, 'duplicate', 1)"))
          .isInstanceOf(SQLException.class)
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("23505"));
      // In a failed transaction PostgreSQL refuses everything until rollback.
      assertThatThrownBy(() -> s.execute("SELECT 1"))
          .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25P02"));
      c.rollback(savepoint);
      c.commit();
      try (ResultSet rs =
          s.executeQuery(
              "SELECT name FROM conformance_items WHERE id IN (3000, 3001) ORDER BY id")) {
        List<String> names = new ArrayList<>();
        while (rs.next()) {
          names.add(rs.getString(1));
        }
        assertThat(names).containsExactly("kept");
      }
      c.commit();
    }
  }

  @Test
  void largeObjects() throws Exception {
    byte[] content = new byte[300_000];
    new java.util.Random(7).nextBytes(content);
    try (Connection c = TestGateway.connect(gateway)) {
      c.setAutoCommit(false);
      LargeObjectManager manager = c.unwrap(PGConnection.class).getLargeObjectAPI();
      long oid = manager.createLO();
      try (LargeObject lo = manager.open(oid, LargeObjectManager.WRITE)) {
        try (OutputStream out = lo.getOutputStream()) {
          out.write(content);
        }
      }
      try (LargeObject lo = manager.open(oid, LargeObjectManager.READ);
          InputStream in = lo.getInputStream()) {
        assertThat(in.readAllBytes()).isEqualTo(content);
      }
      manager.delete(oid);
      c.commit();
    }
  }
}
