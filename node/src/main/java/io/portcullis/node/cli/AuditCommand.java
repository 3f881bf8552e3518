package io.portcullis.node.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.portcullis.node.audit.AuditJson;
import io.portcullis.node.config.AuditSettings;
import io.portcullis.node.config.ConfigLoader;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.persistence.audit.LedgerCheck;
import io.portcullis.persistence.audit.LedgerKey;
import io.portcullis.persistence.audit.LoginJournal;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.index.AuditQueries;
import io.portcullis.persistence.audit.index.SessionQuery;
import io.portcullis.persistence.audit.index.SessionSummary;
import io.portcullis.persistence.audit.index.StatementExport;
import io.portcullis.persistence.audit.index.TimeRange;
import io.portcullis.persistence.journal.JournalDatabase;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.PublicKey;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/** {@code portcullis audit}: read and check the audit journal. */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = "Read and check the audit journal (portcullis.journal in the configuration).",
    subcommands = {
      AuditCommand.Verify.class,
      AuditCommand.Show.class,
      AuditCommand.Sessions.class,
      AuditCommand.Logins.class,
      AuditCommand.Export.class,
      ConformanceCommand.class
    })
final class AuditCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  /** What every audit subcommand reads: the journal named by the gateway's configuration. */
  abstract static class JournalCommand implements Callable<Integer> {

    @Option(
        names = {"-c", "--config"},
        paramLabel = "FILE",
        description = "The gateway's configuration file (its portcullis.journal is read).")
    Path config;

    @Spec CommandSpec spec;

    /** The gateway's configuration, once loaded. */
    Config loaded;

    @Override
    public Integer call() throws Exception {
      try {
        prepare();
      } catch (IllegalArgumentException e) {
        spec.commandLine().getErr().println("portcullis: " + e.getMessage());
        return 2;
      }
      JournalDatabase database;
      try {
        loaded = ConfigLoader.load(Optional.ofNullable(config), ConfigFactory.empty());
        database = JournalDatabase.from(loaded);
      } catch (ConfigException e) {
        spec.commandLine().getErr().println("portcullis: invalid configuration: " + e.getMessage());
        return 2;
      }
      // Events are decoded by the same serializers that wrote them; no cluster is joined.
      ActorSystem<Void> system =
          ActorSystem.create(
              Behaviors.empty(),
              "portcullis-audit",
              ConfigFactory.parseString(
                      "pekko.actor.provider = local\npekko.loglevel = WARNING\n"
                          + "pekko.log-dead-letters = off")
                  .withFallback(loaded));
      try (Connection connection = database.connect()) {
        return run(new JournalReader(connection, system), spec.commandLine().getOut());
      } catch (SQLException e) {
        spec.commandLine()
            .getErr()
            .println("portcullis: cannot read the journal at " + database.url() + ": " + e);
        return 2;
      } finally {
        system.terminate();
      }
    }

    /** Parses the arguments, before the journal is opened; an invalid one throws. */
    void prepare() {}

    abstract int run(JournalReader journal, PrintWriter out) throws SQLException;
  }

  @Command(
      name = "verify",
      mixinStandardHelpOptions = true,
      description =
          "Recompute every session's and every day's failed-login hash chain, check every node's"
              + " signed ledger checkpoints and every session against them, and report each"
              + " edited, deleted, inserted or reordered event, session or checkpoint with its"
              + " location. Exit 0 when the journal is whole, 1 when it is not, 2 on bad input or"
              + " when it cannot be read.")
  static final class Verify extends JournalCommand {

    @Option(
        names = "--since",
        paramLabel = "WHEN",
        converter = When.Since.class,
        description =
            "Check only sessions opened and checkpoints made from then on: a UTC date"
                + " (2026-11-26) or an instant (2026-11-26T09:30:00Z).")
    Instant since;

    @Option(
        names = "--public-key",
        paramLabel = "FILE",
        converter = PublicKeyFile.class,
        description =
            "A PEM Ed25519 public key (openssl pkey -in signing.pem -pubout) that may sign"
                + " checkpoints; repeat for each node's key. Without it any key is accepted and"
                + " only its fingerprint is reported.")
    List<PublicKey> publicKeys = new ArrayList<>();

    @Override
    int run(JournalReader journal, PrintWriter out) throws SQLException {
      Duration interval;
      try {
        interval = AuditSettings.checkpointInterval(loaded.getConfig("portcullis.journal"));
      } catch (ConfigException e) {
        spec.commandLine().getErr().println("portcullis: invalid configuration: " + e.getMessage());
        return 2;
      }
      // A session is checkpointed within an interval of its last event, unless a write is retried.
      LedgerCheck ledgers =
          new LedgerCheck(
              publicKeys.stream().map(LedgerKey::fingerprint).collect(Collectors.toSet()),
              Optional.ofNullable(since),
              interval.multipliedBy(2));
      List<String> nodes = journal.ledgers();
      for (String node : nodes) {
        ledgers.ledger(node, journal.checkpoints(node));
      }
      List<String> sessions = journal.sessions();
      List<String> days = journal.loginDays();
      String firstDay = since == null ? "" : LoginJournal.entityId(since);
      long events = 0;
      int checked = 0;
      int broken = 0;
      for (String session : sessions) {
        List<ChainCheck.Stored<SessionEvent>> stored = journal.events(session);
        ledgers.session(session, stored);
        if (ledgers.covers(stored)) {
          checked++;
          events += stored.size();
          broken += report(ChainCheck.check("session " + session, stored), out);
        }
      }
      int checkedDays = 0;
      for (String day : days) {
        if (day.compareTo(firstDay) >= 0) {
          checkedDays++;
          List<ChainCheck.Stored<LoginJournal.LoginFailed>> stored = journal.loginFailures(day);
          events += stored.size();
          broken += report(ChainCheck.check("failed logins of " + day, stored), out);
        }
      }
      LedgerCheck.Report report = ledgers.finish();
      report
          .findings()
          .forEach(finding -> out.println((finding.broken() ? "BROKEN " : "WARNING ") + finding));
      for (LedgerCheck.Signer signer : report.signers()) {
        out.printf(
            "KEY %s signed %d checkpoints of node %s: %s%n",
            signer.fingerprint(),
            signer.checkpoints(),
            signer.node(),
            signer.trusted()
                ? "trusted"
                : publicKeys.isEmpty()
                    ? "not checked, as no --public-key was given"
                    : "NOT TRUSTED");
      }
      for (LedgerCheck.Tip tip : report.tips()) {
        out.printf(
            "LEDGER node %s: last checkpoint %d at %s, hash %s%n",
            tip.node(), tip.number(), tip.at(), tip.hash());
      }
      String status =
          broken == 0 && report.broken() == 0
              ? "every chain is whole and matches the checkpoints"
              : broken + " chains broken, " + report.broken() + " breaks against the checkpoints";
      out.printf(
          "%d sessions, failed logins on %d days, %d events, %d checkpoints of %d nodes: %s%s%n",
          checked,
          checkedDays,
          events,
          report.checkpoints(),
          nodes.size(),
          status,
          report.warnings() == 0 ? "" : "; " + report.warnings() + " not yet checkpointed");
      out.flush();
      return broken == 0 && report.broken() == 0 ? 0 : 1;
    }

    /** Prints a chain's breaks; 1 if it is broken. */
    private static int report(List<ChainCheck.Break> breaks, PrintWriter out) {
      breaks.forEach(b -> out.println("BROKEN " + b));
      return breaks.isEmpty() ? 0 : 1;
    }

    static final class PublicKeyFile implements ITypeConverter<PublicKey> {
      @Override
      public PublicKey convert(String value) {
        try {
          return LedgerKey.readPublicKey(Path.of(value));
        } catch (IllegalArgumentException e) {
          throw new TypeConversionException(e.getMessage());
        }
      }
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description = "Print a session's events in order, one JSON object per line.")
  static final class Show extends JournalCommand {
    @Parameters(paramLabel = "SESSION_ID", description = "The session's id.")
    String session;

    @Override
    int run(JournalReader journal, PrintWriter out) throws SQLException {
      List<ChainCheck.Stored<SessionEvent>> events = journal.events(session);
      if (events.isEmpty()) {
        spec.commandLine()
            .getErr()
            .println("portcullis: no session " + session + " in the journal");
        return 1;
      }
      for (ChainCheck.Stored stored : events) {
        try {
          out.println(AuditJson.MAPPER.writeValueAsString(stored.event()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new IllegalStateException(e);
        }
      }
      out.flush();
      return 0;
    }
  }

  @Command(
      name = "logins",
      mixinStandardHelpOptions = true,
      description =
          "List the failed logins in the time range, oldest first: who, from where, to which"
              + " target, and what the client was told. Read from the journal's days of failed"
              + " logins; tokens and passwords are never recorded.")
  static final class Logins extends JournalCommand {
    @Option(names = "--user", description = "The user name the client gave, exactly.")
    String user;

    @Mixin TimeRangeOptions times;

    @Option(
        names = "--format",
        defaultValue = "table",
        description = "table (default) or json (one object per line, as journaled).")
    String format;

    private TimeRange range;

    @Override
    void prepare() {
      if (!format.equals("table") && !format.equals("json")) {
        throw new IllegalArgumentException("unknown format '" + format + "'; use table or json");
      }
      range = times.range();
    }

    @Override
    int run(JournalReader journal, PrintWriter out) throws SQLException {
      String line = "%-20s  %-16s  %-15s  %-3s  %-12s  %-8s  %s%n";
      int found = 0;
      for (String day : journal.loginDays()) {
        Instant start = LocalDate.parse(day).atStartOfDay(ZoneOffset.UTC).toInstant();
        if (!start.isBefore(range.until())
            || !start.plus(1, ChronoUnit.DAYS).isAfter(range.since())) {
          continue;
        }
        for (ChainCheck.Stored<LoginJournal.LoginFailed> stored : journal.loginFailures(day)) {
          LoginJournal.LoginFailed failure = stored.event();
          if (failure == null) {
            spec.commandLine()
                .getErr()
                .println(
                    "portcullis: a failed login of "
                        + day
                        + " cannot be decoded and is left out; run audit verify");
            continue;
          }
          if (failure.at().isBefore(range.since())
              || !failure.at().isBefore(range.until())
              || (user != null && !user.equals(failure.user()))) {
            continue;
          }
          if (found++ == 0 && format.equals("table")) {
            out.printf(line, "AT", "USER", "CLIENT", "TLS", "TARGET", "SQLSTATE", "REASON");
          }
          if (format.equals("json")) {
            try {
              out.println(AuditJson.MAPPER.writeValueAsString(failure));
            } catch (JsonProcessingException e) {
              throw new IllegalStateException(e);
            }
          } else {
            out.printf(
                line,
                failure.at().truncatedTo(ChronoUnit.SECONDS),
                // The client chose the user name, before any credential was checked.
                ApprovalsCommand.printable(failure.user()),
                failure.clientAddress(),
                failure.tls() ? "yes" : "no",
                ApprovalsCommand.printable(failure.target()),
                failure.sqlState(),
                ApprovalsCommand.printable(failure.reason()));
          }
        }
      }
      out.flush();
      if (found == 0) {
        spec.commandLine().getErr().println("portcullis: no failed login matches");
      }
      return 0;
    }
  }

  /**
   * A query of the audit index: its arguments are checked first (exit 2 when they are invalid),
   * then the index is brought up to date with the journal, so that the answer is current even when
   * no gateway runs.
   */
  abstract static class IndexCommand extends JournalCommand {

    @Override
    int run(JournalReader journal, PrintWriter out) throws SQLException {
      try {
        journal.catchUpIndex();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return 2;
      }
      return query(journal.index(), out);
    }

    abstract int query(AuditQueries index, PrintWriter out) throws SQLException;
  }

  @Command(
      name = "sessions",
      mixinStandardHelpOptions = true,
      description =
          "List the sessions that match, oldest first: open during the time range, of the user,"
              + " target and client given, and with a statement in the range that touched the"
              + " table, got the decision, approval or SQLSTATE given.")
  static final class Sessions extends IndexCommand {
    @Option(
        names = "--user",
        description = "The identity's subject, exactly as its token named it.")
    String user;

    @Mixin TimeRangeOptions times;

    @Option(names = "--target", description = "The target's name.")
    String target;

    @Option(
        names = "--table",
        description = "A relation as schema.table, or a table name in any schema.")
    String table;

    @Option(names = "--decision", description = "allow, deny or review.")
    String decision;

    @Option(names = "--approval", paramLabel = "ID", description = "An approval's id.")
    String approval;

    @Option(names = "--client", paramLabel = "ADDRESS", description = "The client's IP address.")
    String client;

    @Option(names = "--sqlstate", description = "The SQLSTATE a statement failed with.")
    String sqlState;

    @Option(names = "--format", defaultValue = "table", description = "table (default) or json.")
    String format;

    @Option(
        names = "--limit",
        defaultValue = "1000",
        description = "The most sessions listed (default ${DEFAULT-VALUE}).")
    int limit;

    private SessionQuery query;

    @Override
    void prepare() {
      if (!format.equals("table") && !format.equals("json")) {
        throw new IllegalArgumentException("unknown format '" + format + "'; use table or json");
      }
      query =
          new SessionQuery(
              Optional.ofNullable(user),
              times.range(),
              Optional.ofNullable(target),
              Optional.ofNullable(table),
              Optional.ofNullable(decision),
              Optional.ofNullable(approval),
              Optional.ofNullable(client),
              Optional.ofNullable(sqlState),
              limit);
    }

    @Override
    int query(AuditQueries index, PrintWriter out) throws SQLException {
      SessionSummary.Page page = index.sessions(query);
      PrintWriter err = spec.commandLine().getErr();
      if (format.equals("json")) {
        try {
          out.println(AuditJson.MAPPER.writeValueAsString(page));
        } catch (JsonProcessingException e) {
          throw new IllegalStateException(e);
        }
      } else if (!page.sessions().isEmpty()) {
        String line = "%-36s  %-20s  %-20s  %-16s  %-15s  %-12s  %10s%n";
        out.printf(line, "SESSION", "OPENED", "CLOSED", "USER", "CLIENT", "TARGET", "STATEMENTS");
        for (SessionSummary session : page.sessions()) {
          out.printf(
              line,
              session.session(),
              second(session.openedAt()),
              session.closedAt().map(Sessions::second).orElse("open"),
              session.subject(),
              session.clientAddress(),
              session.target(),
              session.statements());
        }
      }
      out.flush();
      if (page.sessions().isEmpty()) {
        err.println(
            user != null && !index.knownSubject(user)
                ? "portcullis: the journal has no session of user '"
                    + user
                    + "'; users are matched exactly as their token or certificate named them"
                : "portcullis: no session matches");
      } else if (page.more()) {
        err.println(
            "portcullis: the first "
                + limit
                + " sessions are shown; narrow the query or raise --limit");
      }
      return 0;
    }

    private static String second(Instant instant) {
      return instant.truncatedTo(ChronoUnit.SECONDS).toString();
    }
  }

  @Command(
      name = "export",
      mixinStandardHelpOptions = true,
      description =
          "Write every statement of the time range, in time order, with its session's identity,"
              + " to standard output: for a SIEM. Streamed: any size of export runs in little"
              + " memory.")
  static final class Export extends IndexCommand {
    @Mixin TimeRangeOptions times;

    @Option(
        names = "--format",
        defaultValue = "jsonl",
        description = "jsonl (default: one JSON object per line) or csv (with a header line).")
    String format;

    private TimeRange range;
    private StatementExport.Format exportFormat;

    @Override
    void prepare() {
      if (times.since == null) {
        throw new IllegalArgumentException("give --since: an export covers a stated period");
      }
      range = times.range();
      exportFormat = StatementExport.Format.parse(format);
    }

    @Override
    int query(AuditQueries index, PrintWriter out) throws SQLException {
      try (StatementExport export = index.export(range, exportFormat)) {
        for (String lines = export.next(64 * 1024); lines != null; lines = export.next(64 * 1024)) {
          out.write(lines);
        }
      }
      out.flush();
      return 0;
    }
  }
}
