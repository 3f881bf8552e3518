package io.portcullis.node.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.portcullis.node.config.ConfigLoader;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.persistence.audit.LoginJournal;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.journal.JournalDatabase;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code portcullis audit}: read and check the audit journal. */
@Command(
    name = "audit",
    mixinStandardHelpOptions = true,
    description = "Read and check the audit journal (portcullis.journal in the configuration).",
    subcommands = {AuditCommand.Verify.class, AuditCommand.Show.class, ConformanceCommand.class})
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

    /** The configuration read, for subcommands that need more of it than the journal. */
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
          "Recompute every session's and every day's failed-login hash chain and report each"
              + " edited, deleted, inserted or reordered event with its chain and position. Exit 0 when the journal is"
              + " whole, 1 when it is not, 2 when it cannot be read.")
  static final class Verify extends JournalCommand {
    @Override
    int run(JournalReader journal, PrintWriter out) throws SQLException {
      List<String> sessions = journal.sessions();
      List<String> days = journal.loginDays();
      long events = 0;
      int broken = 0;
      for (String session : sessions) {
        List<ChainCheck.Stored<SessionEvent>> stored = journal.events(session);
        events += stored.size();
        broken += report(ChainCheck.check("session " + session, stored), out);
      }
      for (String day : days) {
        List<ChainCheck.Stored<LoginJournal.LoginFailed>> stored = journal.loginFailures(day);
        events += stored.size();
        broken += report(ChainCheck.check("failed logins of " + day, stored), out);
      }
      out.printf(
          "%d sessions, failed logins on %d days, %d events: %s%n",
          sessions.size(),
          days.size(),
          events,
          broken == 0 ? "every chain is whole" : broken + " chains broken");
      out.flush();
      return broken == 0 ? 0 : 1;
    }

    /** Prints a chain's breaks; 1 if it is broken. */
    private static int report(List<ChainCheck.Break> breaks, PrintWriter out) {
      breaks.forEach(b -> out.println("BROKEN " + b));
      return breaks.isEmpty() ? 0 : 1;
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
