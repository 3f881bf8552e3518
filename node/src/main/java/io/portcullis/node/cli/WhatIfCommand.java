package io.portcullis.node.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.portcullis.node.policy.WhatIf;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.persistence.audit.RecordedSession;
import io.portcullis.policy.rules.Policy;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code portcullis policy whatif}: what a candidate policy would change (docs/replay.md). */
@Command(
    name = "whatif",
    mixinStandardHelpOptions = true,
    description =
        "Judge the journal's recorded statements under a candidate policy and report what would"
            + " change: decisions (allow → review, review → deny, …) and new masking, grouped by"
            + " rule and identity, with examples. Exit 0 with a report, 1 when the candidate does"
            + " not validate, 2 when the journal cannot be read or no session was opened in the"
            + " time range.")
final class WhatIfCommand extends AuditCommand.JournalCommand {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @Option(names = "--policy", required = true, paramLabel = "FILE", description = "The candidate.")
  Path candidate;

  @Option(
      names = "--since",
      required = true,
      paramLabel = "WHEN",
      converter = When.Since.class,
      description = "Sessions opened from then on: an ISO date (2026-11-01) or instant.")
  Instant since;

  @Option(
      names = "--until",
      paramLabel = "WHEN",
      converter = When.Until.class,
      description = "Sessions opened before then: an ISO date (up to its end) or instant.")
  Instant until;

  @Option(
      names = "--format",
      defaultValue = "text",
      paramLabel = "FORMAT",
      description = "text (default), or json for CI.")
  String format;

  @Override
  int run(JournalReader journal, PrintWriter out) throws SQLException {
    PrintWriter err = spec.commandLine().getErr();
    TimeRangeOptions.requireOrdered(spec.commandLine(), since, until);
    if (!format.equals("text") && !format.equals("json")) {
      throw new ParameterException(spec.commandLine(), "--format must be text or json");
    }
    Policy policy = PolicyCommand.load(candidate, err);
    if (policy == null) {
      err.println("portcullis: the candidate policy " + candidate + " does not validate");
      return 1;
    }
    WhatIf whatIf = new WhatIf(policy);
    long sessions = 0;
    try (Rejudging rejudging = new Rejudging(journal, loaded, err)) {
      for (String id : journal.sessions()) {
        Optional<RecordedSession> recorded =
            RecordedSession.of(
                journal.events(id).stream()
                    .map(ChainCheck.Stored::event)
                    .filter(Objects::nonNull)
                    .toList());
        if (recorded.isEmpty()) {
          continue;
        }
        Instant opened = recorded.get().opened().at();
        if (opened.isBefore(since) || (until != null && !opened.isBefore(until))) {
          continue;
        }
        sessions++;
        whatIf.add(
            recorded.get(),
            rejudging.decisions.judge(recorded.get(), v -> policy),
            rejudging::policy);
      }
    }
    if (sessions == 0) {
      err.println("portcullis: no session in the journal was opened in that time range");
      return 2;
    }
    WhatIf.Report report = whatIf.report();
    if (format.equals("json")) {
      try {
        out.println(JSON.writeValueAsString(report));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    } else {
      print(report, out);
    }
    out.flush();
    return 0;
  }

  private void print(WhatIf.Report report, PrintWriter out) {
    out.printf(
        "%d statements judged under %s (%s): %d would change decision, %d would see new"
            + " masking%n",
        report.statements(),
        candidate,
        report.candidate().substring(0, Math.min(19, report.candidate().length())),
        report.decisionsChanged(),
        report.maskingChanged());
    for (WhatIf.DecisionChange change : report.decisions()) {
      out.printf(
          "%s → %s  by %s  for %s: %d statement%s%n",
          change.from(),
          change.to(),
          change.rules().isEmpty() ? "the default" : String.join(", ", change.rules()),
          ApprovalsCommand.printable(change.identity()),
          change.statements(),
          change.statements() == 1 ? "" : "s");
      change.examples().forEach(sql -> out.println("    " + example(sql)));
    }
    for (WhatIf.MaskingChange change : report.masking()) {
      out.printf(
          "new masking %s  for %s: %d statement%s%n",
          String.join(", ", change.rules()),
          ApprovalsCommand.printable(change.identity()),
          change.statements(),
          change.statements() == 1 ? "" : "s");
      change.examples().forEach(sql -> out.println("    " + example(sql)));
    }
  }

  private static String example(String sql) {
    return ApprovalsCommand.printable(ApprovalsCommand.firstCharacters(sql, 120));
  }
}
