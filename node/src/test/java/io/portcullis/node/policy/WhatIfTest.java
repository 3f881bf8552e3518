package io.portcullis.node.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.portcullis.node.testing.Cli;
import io.portcullis.node.testing.RecordedBank;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code portcullis policy whatif}: a stricter candidate against a session recorded under the
 * policy in force.
 */
class WhatIfTest {

  private static final String STRICTER =
      RecordedBank.POLICY
          .replace(
              "masking:",
              """
                - id: updates-reviewed
                  when: {kinds: [update]}
                  decision: review
                  reason: updates need an analyst
                  approval: {mode: wait, timeout: 30s, approvers: [security-analysts]}
                - id: no-export
                  when: {kinds: [copy-out]}
                  decision: deny
                  reason: no bulk export
              masking:""")
          .replace(
              "strategy: hash}",
              "strategy: hash}\n    - {id: names, columns: [replay_bank.customers.name],"
                  + " strategy: redact}");

  @TempDir static Path dir;
  private static RecordedBank bank;

  /** After the bank's session: the range of the tests that judge it alone. */
  private static Instant recorded;

  @BeforeAll
  static void record() throws Exception {
    bank = RecordedBank.record(dir, "whatif");
    recorded = Instant.now();
  }

  @AfterAll
  static void stop() {
    bank.close();
  }

  private static Cli.Run whatIf(String policy, String format) throws Exception {
    return whatIf(
        policy, format, "--since", "2000-01-01T00:00:00Z", "--until", recorded.toString());
  }

  private static Cli.Run whatIf(String policy, String format, String... range) throws Exception {
    Path candidate = dir.resolve("candidate.yaml");
    Files.writeString(candidate, policy);
    List<String> arguments =
        new ArrayList<>(
            List.of(
                "policy",
                "whatif",
                "--config",
                bank.config.toString(),
                "--policy",
                candidate.toString(),
                "--format",
                format));
    arguments.addAll(List.of(range));
    return Cli.portcullis(arguments.toArray(String[]::new));
  }

  /**
   * A prepared statement under a review rule is recorded when parsed and again when bound, where it
   * waits for approval with its values: it ran once, and counts once.
   */
  @Test
  void aReviewedPreparedStatementCountsOnce() throws Exception {
    Instant before = Instant.now();
    String delete = "DELETE FROM replay_bank.branches WHERE id = ?";
    bank.recordSession(
        "recon-bot",
        c -> {
          CompletableFuture<Integer> deleted =
              CompletableFuture.supplyAsync(
                  () -> {
                    try (PreparedStatement p = c.prepareStatement(delete)) {
                      p.setInt(1, 9);
                      return p.executeUpdate();
                    } catch (SQLException e) {
                      throw new IllegalStateException(e);
                    }
                  });
          bank.approve(delete.replace("?", "$1"));
          deleted.get(20, TimeUnit.SECONDS);
        });
    String denyDeletes =
        RecordedBank.POLICY.replace(
            """
                decision: review
                reason: deletes need an analyst
                approval: {mode: wait, timeout: 30s, approvers: [security-analysts]}
            """,
            """
                decision: deny
                reason: deletes need an analyst
            """);
    assertThat(denyDeletes).isNotEqualTo(RecordedBank.POLICY);

    Cli.Run run = whatIf(denyDeletes, "json", "--since", before.toString());

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode report = new ObjectMapper().readTree(run.out());
    assertThat(report.path("statements").asLong()).isEqualTo(1);
    assertThat(report.path("decisionsChanged").asLong()).isEqualTo(1);
  }

  @Test
  void aStricterPolicyReportsExactlyTheStatementsItWouldChange() throws Exception {
    Cli.Run run = whatIf(STRICTER, "json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    JsonNode report = new ObjectMapper().readTree(run.out());
    assertThat(report.path("statements").asLong()).isEqualTo(12);
    assertThat(report.path("decisionsChanged").asLong()).isEqualTo(2);
    assertThat(report.path("decisions").toString())
        .isEqualTo(
            new ObjectMapper()
                .readTree(
                    """
                    [{"from": "allow", "to": "deny", "rules": ["no-export"],
                      "identity": "recon-bot", "statements": 1,
                      "examples": ["COPY replay_bank.branches TO STDOUT"]},
                     {"from": "allow", "to": "review", "rules": ["updates-reviewed"],
                      "identity": "recon-bot", "statements": 1,
                      "examples": ["UPDATE replay_bank.customers SET name = 'Bobby' WHERE id = 2"]}]
                    """)
                .toString());
    assertThat(report.path("maskingChanged").asLong()).isEqualTo(10);
    assertThat(report.path("masking")).hasSize(1);
    assertThat(report.path("masking").get(0).path("rules").toString()).isEqualTo("[\"names\"]");
    assertThat(report.path("masking").get(0).path("statements").asLong()).isEqualTo(10);

    Cli.Run text = whatIf(STRICTER, "text");
    assertThat(text.out())
        .contains("12 statements judged under")
        .contains("2 would change decision, 10 would see new masking")
        .contains("allow → review  by updates-reviewed  for recon-bot: 1 statement")
        .contains("new masking names  for recon-bot: 10 statements");
  }

  @Test
  void theSamePolicyChangesNothing() throws Exception {
    Cli.Run run = whatIf(RecordedBank.POLICY, "text");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out())
        .contains("12 statements judged", "0 would change decision, 0 would see new masking");
  }

  @Test
  void aCandidateThatDoesNotValidateIsRefused() throws Exception {
    Cli.Run run = whatIf("default: allow\nrules:\n  - id: x\n    decision: perhaps\n", "json");

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err()).contains("candidate.yaml:", "does not validate");
    assertThat(run.out()).isEmpty();
  }
}
