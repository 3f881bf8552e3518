package io.portcullis.node.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestPostgres;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The embedded (H2) journal on a disk that fills up: statements are refused with 57P03 and nothing
 * runs upstream; once space is freed, the same session goes on. The disk is the small tmpfs that
 * {@code bin/setup-test-postgres} mounts.
 */
class EmbeddedJournalDiskFullTest {

  private static final Path SMALL_DISK =
      Path.of(
          System.getenv().getOrDefault("PORTCULLIS_TEST_SMALL_DISK", "/tmp/portcullis-small-disk"));

  @Test
  void aFullDiskRefusesStatementsUntilSpaceIsFreed() throws Exception {
    FileStore disk = Files.getFileStore(SMALL_DISK);
    assertThat(disk.getTotalSpace())
        .as(SMALL_DISK + " must be a small file system of its own: run bin/setup-test-postgres")
        .isLessThan(256L << 20);
    Path dir = Files.createDirectories(SMALL_DISK.resolve(UUID.randomUUID().toString()));
    try (Connection direct = TestPostgres.direct();
        Statement s = direct.createStatement()) {
      s.execute("DROP TABLE IF EXISTS disk_full_log");
      s.execute("CREATE TABLE disk_full_log (n int)");
    }
    Path filler = dir.resolve("filler");
    try (GatewayNode gateway =
            TestGateway.start(
                """
                portcullis.journal.url = "jdbc:h2:file:%s/journal"
                portcullis.journal.write-timeout = 2s
                """
                    .formatted(dir));
        Connection c = TestGateway.connect(gateway);
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO disk_full_log VALUES (1)");

      fill(filler);
      assertThatThrownBy(
              () -> {
                // H2 may still take a write or two into pages it has allocated already.
                for (int n = 100; n < 200; n++) {
                  s.execute("INSERT INTO disk_full_log VALUES (" + n + ")");
                }
              })
          .isInstanceOfSatisfying(
              SQLException.class,
              e -> {
                assertThat(e.getSQLState()).isEqualTo("57P03");
                assertThat(e.getMessage()).contains("audit journal is unavailable");
              });
      int ranWhileFull = count("n >= 100");

      Files.delete(filler);
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (true) {
        try {
          s.execute("INSERT INTO disk_full_log VALUES (2)");
          break;
        } catch (SQLException e) {
          if (System.nanoTime() > deadline) {
            throw new AssertionError("the session did not recover once space was freed", e);
          }
          Thread.sleep(200);
        }
      }
      assertThat(count("n = 2")).isEqualTo(1);
      assertThat(ranWhileFull).as("only statements the journal took ran").isLessThan(100);
    } finally {
      Files.deleteIfExists(filler);
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  /** Writes until the file system has no space left. */
  private static void fill(Path filler) {
    byte[] block = new byte[1 << 16];
    try (OutputStream out = Files.newOutputStream(filler)) {
      while (true) {
        out.write(block);
      }
    } catch (IOException full) {
      // No space left on device: that is the point.
    }
  }

  private static int count(String condition) throws SQLException {
    try (Connection direct = TestPostgres.direct();
        ResultSet rs =
            direct
                .createStatement()
                .executeQuery("SELECT count(*) FROM disk_full_log WHERE " + condition)) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
