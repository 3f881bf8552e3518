package io.portcullis.node.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.testing.TestGateway;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** psql and pgbench, unmodified, as subprocesses against the gateway. */
class ClientToolsTest {

  private static GatewayNode gateway;

  @BeforeAll
  static void start() throws Exception {
    gateway = TestGateway.start();
  }

  @AfterAll
  static void stop() {
    gateway.close();
  }

  record Run(int exitCode, String stdout, String stderr) {}

  private static ProcessBuilder tool(String name, String... args) {
    List<String> command =
        new ArrayList<>(
            List.of(
                name, "-h", "127.0.0.1", "-p", Integer.toString(gateway.port()), "-U", "alice"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().put("PGCONNECT_TIMEOUT", "10");
    builder.environment().remove("PGPASSWORD");
    return builder;
  }

  private static Run run(ProcessBuilder builder) throws Exception {
    Path out = Files.createTempFile("tool", ".out");
    Path err = Files.createTempFile("tool", ".err");
    Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("tool finished").isTrue();
    return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
  }

  private static Run psql(String... args) throws Exception {
    List<String> all = new ArrayList<>(List.of("-d", "main", "-X", "-A", "-t"));
    all.addAll(List.of(args));
    return run(tool("psql", all.toArray(String[]::new)));
  }

  @Test
  void multiStatementStringReturnsEveryResult() throws Exception {
    Run run = psql("-c", "SELECT 1; SELECT 'two'; SELECT 3");
    assertThat(run.exitCode()).isZero();
    assertThat(run.stdout().lines()).containsExactly("1", "two", "3");
  }

  @Test
  void onErrorStopStopsAtTheFirstError(@TempDir Path dir) throws Exception {
    Path script = dir.resolve("script.sql");
    Files.writeString(script, "SELECT 'before';\nSELECT 1/0;\nSELECT 'after';\n");
    Run run = psql("-v", "ON_ERROR_STOP=1", "-f", script.toString());
    assertThat(run.exitCode()).isEqualTo(3);
    assertThat(run.stdout()).contains("before").doesNotContain("after");
    assertThat(run.stderr()).contains("division by zero");
  }

  @Test
  void backslashCopyRoundTrips(@TempDir Path dir) throws Exception {
    Path input = dir.resolve("in.csv");
    Path output = dir.resolve("out.csv");
    StringBuilder csv = new StringBuilder();
    for (int i = 0; i < 1000; i++) {
      csv.append(i).append(",value ").append(i).append('\n');
    }
    Files.writeString(input, csv.toString());
    Run run =
        psql(
            "-v", "ON_ERROR_STOP=1",
            "-c", "DROP TABLE IF EXISTS tools_copy",
            "-c", "CREATE TABLE tools_copy (id int, v text)",
            "-c", "\\copy tools_copy FROM '" + input + "' (FORMAT csv)",
            "-c", "\\copy (SELECT * FROM tools_copy ORDER BY id) TO '" + output + "' (FORMAT csv)");
    assertThat(run.exitCode()).as(run.stderr()).isZero();
    assertThat(Files.readString(output, StandardCharsets.UTF_8)).isEqualTo(csv.toString());
  }

  @Test
  void interruptCancelsARunningStatement() throws Exception {
    Process process =
        tool("psql", "-d", "main", "-X", "-c", "SELECT pg_sleep(60)")
            .redirectErrorStream(true)
            .start();
    TimeUnit.MILLISECONDS.sleep(1500);
    signalInterrupt(process);
    assertThat(process.waitFor(15, TimeUnit.SECONDS)).as("psql ended after Ctrl-C").isTrue();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(output).contains("canceling statement due to user request");
  }

  @Test
  void watchRepeatsUntilInterrupted() throws Exception {
    Process process =
        tool("psql", "-d", "main", "-X", "-A", "-t").redirectErrorStream(true).start();
    process.getOutputStream().write("SELECT 'tick' \\watch 0.1\n".getBytes(StandardCharsets.UTF_8));
    process.getOutputStream().close();
    TimeUnit.MILLISECONDS.sleep(2000);
    signalInterrupt(process);
    assertThat(process.waitFor(15, TimeUnit.SECONDS)).as("psql ended after Ctrl-C").isTrue();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(output.lines().filter("tick"::equals).count()).isGreaterThan(3);
  }

  @Test
  void pgbenchInitialisesAndRunsInEveryQueryMode() throws Exception {
    Run init = run(tool("pgbench", "-i", "-s", "1", "-q", "main"));
    assertThat(init.exitCode()).as(init.stderr()).isZero();
    for (String mode : List.of("simple", "extended", "prepared")) {
      Run bench = run(tool("pgbench", "-S", "-c", "4", "-j", "2", "-t", "200", "-M", mode, "main"));
      assertThat(bench.exitCode()).as(mode + ": " + bench.stderr()).isZero();
      assertThat(bench.stdout()).contains("number of transactions actually processed: 800/800");
    }
  }

  private static void signalInterrupt(Process process) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-INT", Long.toString(process.pid())).start().waitFor();
  }
}
