package io.portcullis.node.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.portcullis.node.config.AuditSettings;
import io.portcullis.node.config.ConfigLoader;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.persistence.audit.LedgerCheck;
import io.portcullis.persistence.audit.LedgerKey;
import io.portcullis.persistence.audit.LoginJournal;
import io.portcullis.persistence.audit.SessionEvent;
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
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
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
    subcommands = {AuditCommand.Verify.class, AuditCommand.Show.class})
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
        converter = Since.class,
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

    /** A UTC date, meaning its start, or an instant. */
    static final class Since implements ITypeConverter<Instant> {
      @Override
      public Instant convert(String value) {
        try {
          return value.contains("T")
              ? Instant.parse(value)
              : LocalDate.parse(value).atStartOfDay(ZoneOffset.UTC).toInstant();
        } catch (DateTimeParseException e) {
          throw new TypeConversionException(
              "'"
                  + value
                  + "' is neither a date (2026-11-26) nor an instant (2026-11-26T09:30:00Z)");
        }
      }
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

    private static final ObjectMapper JSON =
        JsonMapper.builder()
            .addModule(new Jdk8Module())
            .addModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .build();

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
          out.println(JSON.writeValueAsString(stored.event()));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
          throw new IllegalStateException(e);
        }
      }
      out.flush();
      return 0;
    }
  }
}
