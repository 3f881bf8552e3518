package io.portcullis.node.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.cli.PortcullisCommand;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.persistence.journal.JournalDatabase;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `audit export` of 1,000,000 statements in a JVM whose heap could not hold a tenth of them: it
 * completes with every line only if it streams from a cursor to standard output.
 */
class AuditExportTest {

  private static final String DATABASE = "portcullis_export_it";
  private static final int STATEMENTS = 1_000_000;

  @TempDir Path dir;

  @Test
  void anExportOfAMillionStatementsStreamsInBoundedMemory() throws Exception {
    TestPostgres.recreateDatabase(DATABASE);
    TestPostgres.Server pg = TestPostgres.server();
    new JournalDatabase(pg.jdbcUrl(DATABASE), pg.user(), pg.password(), true).ensureSchema();
    try (Connection c = TestPostgres.direct(DATABASE);
        Statement s = c.createStatement()) {
      s.execute(
          """
          INSERT INTO audit_sessions (session, subject, issuer, groups_json, agent,
            client_address, client_port, application_name, target, upstream_role, node,
            opened_at, closed_at, close_reason, statements)
          SELECT 's-' || g, 'user-' || g % 50, 'https://login.bank.example', '["analysts"]',
            false, '10.0.0.' || g % 200, 50000, 'psql', 'main', 'postgres', 'node-1',
            timestamptz '2026-11-01' + g * interval '1 minute',
            timestamptz '2026-11-01' + (g + 1) * interval '1 minute', 'client', 1000
          FROM generate_series(1, 1000) g
          """);
      s.execute(
          """
          INSERT INTO audit_statements (session, statement, at, subject, target, client_address,
            protocol, sql_text, decision, rules_json, policy_version, tables_json, command_tag,
            row_count, duration_micros, result_digest)
          SELECT 's-' || (g / 1000 + 1), g %% 1000 + 1,
            timestamptz '2026-11-01' + (g / 1000 + 1) * interval '1 minute'
              + (g %% 1000) * interval '1 millisecond',
            'user-' || (g / 1000 + 1) %% 50, 'main', '10.0.0.' || (g / 1000 + 1) %% 200,
            'extended', 'SELECT balance, owner FROM bank.accounts WHERE id = ' || g, 'allow',
            '["read-accounts"]', 'v1', '["bank.accounts"]', 'SELECT 1', 1, 180,
            md5(g::text) || md5(g::text)
          FROM generate_series(0, %d) g
          """
              .formatted(STATEMENTS - 1));
    }
    Path config = dir.resolve("gateway.conf");
    Files.writeString(
        config,
        "portcullis.journal { url = \"%s\", user = \"%s\", password = \"%s\" }"
            .formatted(pg.jdbcUrl(DATABASE), pg.user(), pg.password()));

    Process export =
        new ProcessBuilder(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx64m",
                    "-XX:+ExitOnOutOfMemoryError",
                    "-cp",
                    System.getProperty("java.class.path"),
                    PortcullisCommand.class.getName(),
                    "audit",
                    "export",
                    "--config",
                    config.toString(),
                    "--since",
                    "2026-11-01",
                    "--format",
                    "csv"))
            .redirectError(dir.resolve("stderr").toFile())
            .start();
    long lines = 0;
    try (InputStream out = export.getInputStream()) {
      byte[] buffer = new byte[64 * 1024];
      for (int read = out.read(buffer); read >= 0; read = out.read(buffer)) {
        for (int i = 0; i < read; i++) {
          if (buffer[i] == '\n') {
            lines++;
          }
        }
      }
    }
    assertThat(export.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(export.exitValue()).as(Files.readString(dir.resolve("stderr"))).isZero();
    assertThat(lines).isEqualTo(STATEMENTS + 1); // and the header
  }
}
