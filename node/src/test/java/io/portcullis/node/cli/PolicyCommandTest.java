package io.portcullis.node.cli;

import static io.portcullis.node.testing.Cli.portcullis;
import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.testing.Cli.Run;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code portcullis policy check|explain}, as a policy repository's CI would run them. */
class PolicyCommandTest {

  private static final String EXAMPLE =
      Path.of("..", "deploy", "policy", "bank-example.yaml").toString();

  @Test
  void checkAcceptsTheShippedExample() {
    Run run = portcullis("policy", "check", EXAMPLE);
    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).contains("valid", "default deny", "version sha256:");
  }

  @Test
  void checkReportsEveryProblemWithItsPosition(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(
        file,
        """
        default: deny
        rules:
          - id: a
            when: { tabels: [customers] }
            decision: allow
          - id: b
            decision: perhaps
        """);
    Run run = portcullis("policy", "check", file.toString());
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .contains(file + ":4:13: unknown key 'tabels' in when")
        .contains(file + ":7:15: decision must be one of: allow, deny, review (not 'perhaps')");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void explainShowsTheAnalysisTheMatchingRulesAndTheDecision() {
    Run run =
        portcullis(
            "policy",
            "explain",
            EXAMPLE,
            "--as",
            "payments-bot",
            "--groups",
            "agents",
            "--agent",
            "--sql",
            "SELECT c.ssn FROM bank.customers c WHERE c.id = 1",
            "--expect",
            "review");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .contains("kinds:          select")
        .contains("tables read:    bank.customers")
        .contains("agents-read (allow)", "agents-pii-needs-approval (review)")
        .contains("decision: review by agents-pii-needs-approval");
  }

  @Test
  void explainFailsWhenTheDecisionIsNotTheExpectedOne() {
    Run run =
        portcullis(
            "policy",
            "explain",
            EXAMPLE,
            "--as",
            "payments-bot",
            "--agent",
            "--sql",
            "DROP TABLE bank.customers",
            "--expect",
            "allow");
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out()).contains("decision: deny by no-ddl");
    assertThat(run.err()).contains("expected allow but the decision is deny");
  }

  @Test
  void aMissingFileIsAClearError() {
    Run run = portcullis("policy", "check", "no/such/policy.yaml");
    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("no/such/policy.yaml: cannot read the policy file");
  }

  @Test
  void explainJudgesAtAGivenTimeForTimeWindows(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("hours.yaml");
    Files.writeString(
        file,
        """
        default: deny
        rules:
          - id: office-hours
            when:
              time: { days: [mon-fri], from: "08:00", to: "18:00", zone: Europe/London }
            decision: allow
        """);
    String[] explain = {"policy", "explain", file.toString(), "--as", "alice", "--sql", "SELECT 1"};
    Run monday = portcullis(concat(explain, "--at", "2026-11-23T10:00:00Z"));
    Run sunday = portcullis(concat(explain, "--at", "2026-11-22T10:00:00Z"));
    assertThat(monday.out()).contains("decision: allow by office-hours");
    assertThat(sunday.out()).contains("decision: deny (default)");
  }

  @Test
  void explainRefusesATimeThatIsNotAnInstant() {
    Run run =
        portcullis(
            "policy", "explain", EXAMPLE, "--as", "a", "--sql", "SELECT 1", "--at", "tomorrow");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("--at");
  }

  @Test
  void theGatewayDoesNotStartWithAMissingOrBrokenPolicyFile(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("gateway.conf");
    Files.writeString(config, "portcullis.policy.file = \"" + dir.resolve("absent.yaml") + "\"\n");
    Run missing = portcullis("run", "--config", config.toString());
    assertThat(missing.exitCode()).isEqualTo(2);
    assertThat(missing.err()).contains("cannot read the policy file", "absent.yaml");

    Path broken = dir.resolve("broken.yaml");
    Files.writeString(broken, "default: sometimes\n");
    Files.writeString(config, "portcullis.policy.file = \"" + broken + "\"\n");
    Run invalid = portcullis("run", "--config", config.toString());
    assertThat(invalid.exitCode()).isEqualTo(2);
    assertThat(invalid.err()).contains("does not validate", "broken.yaml:1:10:");
  }

  private static String[] concat(String[] first, String... more) {
    String[] all = java.util.Arrays.copyOf(first, first.length + more.length);
    System.arraycopy(more, 0, all, first.length, more.length);
    return all;
  }
}
