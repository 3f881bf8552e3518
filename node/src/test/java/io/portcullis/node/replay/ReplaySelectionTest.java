package io.portcullis.node.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.portcullis.node.testing.Cli;
import io.portcullis.node.testing.RecordedBank;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code portcullis replay --since … --until … --user …}: of three sessions recorded through the
 * gateway, by two identities one after the other, exactly those selected are replayed, each with
 * its own report and journal record.
 */
class ReplaySelectionTest {

  private static final String SANDBOX = "portcullis_replay_selection_sandbox";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Pattern HEADER =
      Pattern.compile("^replay r-\\S+ of session (\\S+) \\(([^,]+),", Pattern.MULTILINE);
  private static final Pattern SUMMARY =
      Pattern.compile("^\\d+ statements: .*$", Pattern.MULTILINE);

  /** What a replay's report says of a session. */
  private record Report(String session, String subject, String summary) {}

  @TempDir static Path dir;
  private static RecordedBank bank;
  private static Path auditor;

  /** recon-bot's bank session, recorded first. */
  private static Report banking;

  private static Report ledger;

  /** recon-bot's second session, recorded last. */
  private static Report later;

  private static Instant afterBanking;
  private static Instant afterLedger;

  @BeforeAll
  static void record() throws Exception {
    bank = RecordedBank.record(dir, "replay_selection", SANDBOX);
    auditor = bank.tokenFile("dana", Set.of("auditor"));
    banking =
        new Report(
            bank.session, "recon-bot", "12 statements: 11 identical, 0 differ, 1 denied (not run)");
    afterBanking = Instant.now();
    ledger =
        new Report(
            bank.recordSession(
                "ledger-bot",
                "SELECT id, city FROM replay_bank.branches ORDER BY id",
                "SELECT name FROM replay_bank.customers WHERE id = 1"),
            "ledger-bot",
            "2 statements: 2 identical, 0 differ");
    afterLedger = Instant.now();
    // The bank session renamed customer 2 in the gateway's target, not in the sandbox: reading it
    // differs when replayed.
    later =
        new Report(
            bank.recordSession(
                "recon-bot",
                "SELECT city FROM replay_bank.branches WHERE id = 1",
                "SELECT id, name FROM replay_bank.customers WHERE id = 2"),
            "recon-bot",
            "2 statements: 1 identical, 1 differ");
  }

  @AfterAll
  static void stop() {
    bank.close();
  }

  private static Cli.Run replay(String... selection) {
    List<String> args = new ArrayList<>(List.of(selection));
    args.addAll(List.of("--target", RecordedBank.sandboxUrl(SANDBOX)));
    return bank.replay(auditor, args.toArray(String[]::new));
  }

  @Test
  void selectsTheSessionsOfOneUser() throws Exception {
    long replaysBefore = bank.replayRecords();

    Cli.Run ledgerBot = replay("--user", "ledger-bot");
    assertThat(ledgerBot.exitCode()).as(ledgerBot.out() + ledgerBot.err()).isZero();
    assertThat(reports(ledgerBot.out())).containsExactly(ledger);
    assertThat(ledgerBot.out()).endsWith("\n1 sessions replayed");

    Cli.Run reconBot = replay("--user", "recon-bot");
    assertThat(reconBot.exitCode()).as("one of its sessions differs").isEqualTo(1);
    assertThat(reports(reconBot.out())).containsExactly(banking, later);
    assertThat(reconBot.out()).endsWith("\n2 sessions replayed");

    assertThat(bank.replayRecords())
        .as("each replayed session is journaled as a replay of its own")
        .isEqualTo(replaysBefore + 3);
  }

  @Test
  void selectsTheSessionsOpenedInARange() {
    Cli.Run between = replay("--since", afterBanking.toString(), "--until", afterLedger.toString());
    assertThat(between.exitCode()).as(between.out() + between.err()).isZero();
    assertThat(reports(between.out())).containsExactly(ledger);

    Cli.Run before = replay("--until", afterBanking.toString());
    assertThat(before.exitCode()).as(before.out() + before.err()).isZero();
    assertThat(reports(before.out())).containsExactly(banking);

    Cli.Run since = replay("--since", afterBanking.toString());
    assertThat(since.exitCode()).isEqualTo(1);
    assertThat(reports(since.out())).containsExactly(ledger, later);

    Cli.Run sinceOfOneUser = replay("--user", "recon-bot", "--since", afterBanking.toString());
    assertThat(sinceOfOneUser.exitCode()).isEqualTo(1);
    assertThat(reports(sinceOfOneUser.out())).containsExactly(later);
  }

  @Test
  void withFormatJsonStandardOutputHoldsOneReportPerLineAndNothingElse() throws Exception {
    Cli.Run run = replay("--until", afterLedger.toString(), "--format", "json");

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    List<Report> reports = new ArrayList<>();
    for (String line : run.out().split("\n")) {
      JsonNode report = JSON.readTree(line);
      assertThat(report.isObject()).as(line).isTrue();
      reports.add(
          new Report(
              report.path("session").asText(),
              report.path("subject").asText(),
              report.path("summary").asText()));
    }
    assertThat(reports).containsExactly(banking, ledger);
    assertThat(run.err()).contains("2 sessions replayed");
  }

  @Test
  void noProgressIsDrawnWhenStandardOutputIsNotATerminal() {
    assertThat(System.console()).as("the tests run without a terminal").isNull();
    Cli.Run run = replay("--until", afterLedger.toString());

    assertThat(reports(run.out())).containsExactly(banking, ledger);
    assertThat(run.err()).doesNotContain("\r", "replayed 1 sessions", "replayed 2 sessions");
  }

  @Test
  void anInvertedRangeIsRefused() throws Exception {
    long replaysBefore = bank.replayRecords();
    Cli.Run run = replay("--since", afterLedger.toString(), "--until", afterBanking.toString());

    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("the time range is empty", "(did you swap them?)");
    assertThat(run.out()).isEmpty();
    assertThat(bank.replayRecords()).isEqualTo(replaysBefore);
  }

  @Test
  void aSelectionThatMatchesNoSessionIsRefused() throws Exception {
    long replaysBefore = bank.replayRecords();

    Cli.Run unknownUser = replay("--user", "nobody");
    assertThat(unknownUser.exitCode()).isEqualTo(2);
    assertThat(unknownUser.err())
        .contains(
            "no session in the journal was opened by 'nobody'",
            "users are matched exactly as their token or certificate named them");
    assertThat(unknownUser.out()).isEmpty();

    Cli.Run tooLate = replay("--user", "ledger-bot", "--since", afterLedger.toString());
    assertThat(tooLate.exitCode()).isEqualTo(2);
    assertThat(tooLate.err())
        .contains("no session in the journal was opened by 'ledger-bot' from " + afterLedger);
    assertThat(tooLate.out()).isEmpty();

    assertThat(bank.replayRecords()).isEqualTo(replaysBefore);
  }

  /** Each text report's session, subject and summary, in the order printed. */
  private static List<Report> reports(String out) {
    List<Report> reports = new ArrayList<>();
    Matcher header = HEADER.matcher(out);
    Matcher summary = SUMMARY.matcher(out);
    while (header.find()) {
      assertThat(summary.find(header.end())).as(out).isTrue();
      reports.add(new Report(header.group(1), header.group(2), summary.group()));
    }
    return reports;
  }
}
