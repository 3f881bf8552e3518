package io.portcullis.node.cli;

import io.portcullis.node.audit.Conformance;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.persistence.audit.RecordedSession;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import java.io.PrintWriter;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code portcullis audit conformance}: judge every recorded statement again (docs/replay.md). */
@Command(
    name = "conformance",
    mixinStandardHelpOptions = true,
    description =
        "Judge every recorded statement again under the policy version recorded with it, and"
            + " report each whose recorded decision, rule ids or masking exemptions differ: a bug"
            + " or an edited journal. Exit 0 when all conform and every chain is whole, 1 when"
            + " some do not or a chain is broken, 2 when the journal cannot be read or no session"
            + " was opened in the time range.")
final class ConformanceCommand extends AuditCommand.JournalCommand {

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

  @Override
  int run(JournalReader journal, PrintWriter out) throws SQLException {
    PrintWriter err = spec.commandLine().getErr();
    TimeRangeOptions.requireOrdered(spec.commandLine(), since, until);
    long sessions = 0;
    long statements = 0;
    long differing = 0;
    long broken = 0;
    try (Rejudging rejudging = new Rejudging(journal, loaded, err)) {
      for (String id : journal.sessions()) {
        List<ChainCheck.Stored<SessionEvent>> stored = journal.events(id);
        Optional<RecordedSession> recorded =
            RecordedSession.of(
                stored.stream().map(ChainCheck.Stored::event).filter(Objects::nonNull).toList());
        if (recorded.isEmpty()) {
          out.println("session " + id + ": its first event is not SessionOpened; not checked");
          differing++;
          continue;
        }
        Instant opened = recorded.get().opened().at();
        if (opened.isBefore(since) || (until != null && !opened.isBefore(until))) {
          continue;
        }
        sessions++;
        // An edited decision breaks the chain as well; both are reported, neither hides the other.
        for (ChainCheck.Break problem : ChainCheck.check("session " + id, stored)) {
          broken++;
          out.println("BROKEN " + problem);
        }
        List<PolicyDecided> now = rejudging.decisions.judge(recorded.get(), rejudging::policy);
        List<Conformance.Finding> findings =
            Conformance.check(recorded.get(), rejudging::policy, now);
        statements += recorded.get().statements().size();
        for (Conformance.Finding finding : findings) {
          differing++;
          out.println(
              "DIFFERS session "
                  + finding.session()
                  + (finding.statement() == 0 ? "" : " statement " + finding.statement())
                  + ": "
                  + finding.problem()
                  + (finding.sql().isEmpty() ? "" : "\n    " + oneLine(finding.sql())));
        }
      }
    }
    if (sessions == 0) {
      err.println("portcullis: no session in the journal was opened in that time range");
      return 2;
    }
    out.printf(
        "%d sessions, %d statements: %s%s%n",
        sessions,
        statements,
        differing == 0 ? "every decision conforms to its policy" : differing + " differ",
        broken == 0
            ? ""
            : "; but "
                + broken
                + " breaks in the journal's chains: what was edited there is not proven"
                + " (audit verify)");
    out.flush();
    return differing == 0 && broken == 0 ? 0 : 1;
  }

  private static String oneLine(String sql) {
    return ApprovalsCommand.printable(ApprovalsCommand.firstCharacters(sql, 120));
  }
}
