package io.portcullis.node.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import io.portcullis.node.cli.ApprovalsCommand.AdminApi;
import io.portcullis.node.cli.ApprovalsCommand.AdminOptions;
import io.portcullis.node.cli.ApprovalsCommand.Failure;
import io.portcullis.node.config.AuditSettings;
import io.portcullis.node.config.GatewaySettings;
import io.portcullis.node.config.TargetSettings;
import io.portcullis.node.masking.Lineages;
import io.portcullis.node.policy.CatalogReader;
import io.portcullis.node.policy.TargetCatalog;
import io.portcullis.node.policy.TargetCatalogs;
import io.portcullis.node.replay.ReplayReport;
import io.portcullis.node.replay.Sandbox;
import io.portcullis.node.replay.SandboxConnection;
import io.portcullis.node.replay.SandboxConnection.SandboxException;
import io.portcullis.node.replay.SessionReplay;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.persistence.audit.RecordedSession;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.policy.masking.ValueMasker;
import io.portcullis.policy.rules.Policy;
import io.portcullis.policy.rules.PolicyException;
import io.portcullis.policy.rules.PolicyParser;
import io.portcullis.policy.sql.SqlAnalyzer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code portcullis replay}: runs recorded sessions again against a sandbox and compares every
 * result with the journal (docs/replay.md). The gateway authorises each replay and journals it
 * first; this command holds the keys and does the work.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    description =
        "Re-execute a recorded session's statements against a sandbox database and compare each"
            + " command tag, row count, SQLSTATE and masked-result digest with the journal.",
    footer = {
      "",
      "The gateway's admin API (--url) must authorise the replay: your token (--token-file or"
          + " PORTCULLIS_TOKEN) must name a member of portcullis.replay.groups, and the gateway"
          + " journals the replay before it may start. The sandbox password comes from PGPASSWORD.",
      "",
      "Exit status: 0 every replayed statement is identical; 1 some differ or cannot be replayed;"
          + " 2 usage error, unknown session, sandbox unreachable or with another schema, or the"
          + " replay not authorised."
    })
final class ReplayCommand extends AuditCommand.JournalCommand {

  private static final Duration SANDBOX_TIMEOUT = Duration.ofSeconds(60);
  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .addModule(new Jdk8Module())
          .disable(SerializationFeature.INDENT_OUTPUT)
          .build();

  @Parameters(
      paramLabel = "SESSION_ID",
      arity = "0..1",
      description = "The session to replay; or select sessions with --since, --until, --user.")
  String session;

  @Option(
      names = "--target",
      required = true,
      paramLabel = "SANDBOX_URL",
      description = "The sandbox: postgresql://user@host:port/database (password in PGPASSWORD).")
  String target;

  @Option(
      names = "--force",
      description = "Replay even into the database of one of the gateway's own targets.")
  boolean force;

  @Option(
      names = "--commit",
      description =
          "Commit what the statements write, and run their own transaction control; by default"
              + " the replay runs in one transaction that is rolled back.")
  boolean commit;

  @Option(
      names = "--since",
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

  @Option(names = "--user", paramLabel = "NAME", description = "Sessions of this identity only.")
  String user;

  @Mixin AdminOptions admin;

  @Override
  int run(JournalReader journal, PrintWriter out) throws SQLException {
    PrintWriter err = spec.commandLine().getErr();
    if ((session == null) == (since == null && until == null && user == null)) {
      throw new ParameterException(
          spec.commandLine(), "give a SESSION_ID, or select sessions with --since/--until/--user");
    }
    TimeRangeOptions.requireOrdered(spec.commandLine(), since, until);
    if (!admin.format.equals("text") && !admin.format.equals("json")) {
      throw new ParameterException(spec.commandLine(), "--format must be text or json");
    }
    Sandbox sandbox;
    try {
      sandbox = Sandbox.parse(target);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--target: " + e.getMessage());
    }
    // The gateway refuses it too, when asked to authorise; this refuses before connecting there.
    Optional<String> protectedTarget =
        force
            ? Optional.empty()
            : sandbox.protectedBy(GatewaySettings.from(loaded).targets().values());
    if (protectedTarget.isPresent()) {
      err.println("portcullis: " + protectedTarget.get());
      return 2;
    }
    ValueMasker masker;
    ClientDataSeal seal;
    try {
      masker = maskingKey(err);
      Optional<Path> sealingKey =
          AuditSettings.from(loaded.getConfig("portcullis.journal"), "replay").sealingKeyFile();
      seal =
          sealingKey.isPresent()
              ? ClientDataSeal.fromKeyFile(sealingKey.get())
              : ClientDataSeal.none();
    } catch (IOException | IllegalArgumentException e) {
      err.println("portcullis: " + e.getMessage());
      return 2;
    }
    List<String> sessions;
    if (session != null) {
      Optional<String> problem = checkSession(journal, session);
      if (problem.isPresent()) {
        err.println("portcullis: " + problem.get());
        return 2;
      }
      sessions = List.of(session);
    } else {
      sessions = journal.sessions();
    }
    TargetSettings sandboxTarget =
        sandbox.asTarget(Optional.ofNullable(System.getenv("PGPASSWORD")), Duration.ofSeconds(10));
    ScheduledExecutorService blocking =
        Executors.newSingleThreadScheduledExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "portcullis-replay-catalog");
              thread.setDaemon(true);
              return thread;
            });
    TargetCatalogs catalogs =
        new TargetCatalogs(
            Map.of(sandboxTarget.name(), sandboxTarget),
            CatalogReader::load,
            Duration.ofDays(1),
            blocking);
    try (SandboxConnection connection = SandboxConnection.open(sandboxTarget, SANDBOX_TIMEOUT);
        Lineages lineages =
            new Lineages(Map.of(sandboxTarget.name(), sandboxTarget), catalogs, blocking)) {
      catalogs.start(Duration.ofSeconds(30));
      Optional<TargetCatalog> catalog = catalogs.current(sandboxTarget.name());
      if (catalog.isEmpty()) {
        err.println(
            "portcullis: cannot read the catalog of the sandbox at "
                + sandbox.location()
                + " (the gateway's log lines above say why)");
        return 2;
      }
      SqlAnalyzer analyzer = new SqlAnalyzer();
      SessionReplay replay =
          new SessionReplay(
              connection,
              () -> catalogs.current(sandboxTarget.name()),
              (sql, parameters) -> lineages.of(sandboxTarget.name(), sql, parameters),
              analyzer,
              masker,
              seal,
              commit);
      AdminApi api = AdminApi.open(base(), admin, err);
      Map<String, Policy> policies = new HashMap<>();
      int exit = 0;
      int matched = 0;
      int done = 0;
      String progress = "";
      for (String id : sessions) {
        Optional<RecordedSession> recorded =
            RecordedSession.of(journal.events(id).stream().map(ChainCheck.Stored::event).toList());
        if (recorded.isEmpty() || !selected(recorded.get())) {
          continue;
        }
        matched++;
        erase(err, progress);
        progress = "";
        if (session == null && (checkSession(journal, id).isPresent())) {
          err.println(
              "portcullis: skipping session " + id + ": " + checkSession(journal, id).get());
          exit = Math.max(exit, 1);
          continue;
        }
        RecordedSession one = recorded.get();
        String version = one.opened().policyVersion();
        int unreadable = 0;
        for (String used : SessionReplay.policyVersions(one)) {
          unreadable = Math.max(unreadable, load(journal, used, id, policies, err));
        }
        if (unreadable > 0) {
          exit = Math.max(exit, session == null ? 1 : unreadable);
          continue;
        }
        Set<String> missing = SessionReplay.missingTables(one, catalog.get().relations(), analyzer);
        if (!missing.isEmpty()) {
          err.println(
              "portcullis: the sandbox at "
                  + sandbox.location()
                  + " lacks "
                  + String.join(", ", missing)
                  + ", which session "
                  + id
                  + " used: its schema is not the recorded target's");
          if (session != null) {
            return 2;
          }
          exit = Math.max(exit, 1);
          continue;
        }
        String replayId = authorise(api, id, sandbox);
        ReplayReport report =
            new ReplayReport(
                replayId,
                id,
                one.opened().subject(),
                version,
                sandbox.location(),
                commit,
                replay.replay(one, policies::get));
        if (admin.format.equals("json")) {
          out.println(JSON.writeValueAsString(report));
        } else {
          report.print(out);
        }
        out.flush();
        exit = Math.max(exit, report.identical() ? 0 : 1);
        done++;
        if (session == null && System.console() != null) {
          progress = "replayed " + done + " sessions";
          err.print(progress);
          err.flush();
        }
      }
      if (session == null) {
        erase(err, progress);
        if (matched == 0) {
          err.println(
              "portcullis: no session in the journal was opened"
                  + (user == null ? "" : " by '" + user + "'")
                  + (since == null ? "" : " from " + since)
                  + (until == null ? "" : " before " + until)
                  + (user == null
                      ? ""
                      : "; users are matched exactly as their token or certificate named them"));
          return 2;
        }
        // With --format json, standard output holds nothing but one report per line.
        (admin.format.equals("json") ? err : out).println(done + " sessions replayed");
      }
      return exit;
    } catch (SandboxException e) {
      err.println("portcullis: " + e.getMessage());
      return 2;
    } catch (Failure failure) {
      err.println("portcullis: the replay is not authorised: " + failure.getMessage());
      return 2;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    } finally {
      catalogs.close();
      blocking.shutdownNow();
    }
  }

  /**
   * Blanks the progress line: the reports and messages that follow it go to the same terminal, and
   * would otherwise begin on it.
   */
  private static void erase(PrintWriter err, String progress) {
    if (!progress.isEmpty()) {
      err.print("\r" + " ".repeat(progress.length()) + "\r");
      err.flush();
    }
  }

  private boolean selected(RecordedSession recorded) {
    Instant opened = recorded.opened().at();
    return (since == null || !opened.isBefore(since))
        && (until == null || opened.isBefore(until))
        && (user == null || recorded.opened().subject().equals(user));
  }

  /**
   * Reads a policy version's text from the journal into {@code policies}, once: 0 when it is there,
   * or the exit status after saying why not (2 for a text that does not parse, 1 or 2 for one the
   * journal lacks).
   */
  private static int load(
      JournalReader journal,
      String version,
      String session,
      Map<String, Policy> policies,
      PrintWriter err)
      throws SQLException {
    if (policies.containsKey(version)) {
      return 0;
    }
    Optional<String> text = journal.policyText(version);
    if (text.isEmpty()) {
      err.println(
          "portcullis: the journal does not hold the text of policy "
              + version
              + " of session "
              + session
              + ", so its masking cannot be reproduced");
      return 2;
    }
    try {
      policies.put(version, PolicyParser.parse(version, text.get()));
      return 0;
    } catch (PolicyException e) {
      err.println(
          "portcullis: policy " + version + " in the journal does not parse: " + e.getMessage());
      return 2;
    }
  }

  /** Why a session cannot be replayed as a whole, if it cannot. */
  private static Optional<String> checkSession(JournalReader journal, String id)
      throws SQLException {
    List<ChainCheck.Stored<SessionEvent>> events = journal.events(id);
    if (events.isEmpty()) {
      List<String> candidates = new ArrayList<>();
      for (String known : journal.sessions()) {
        if (known.startsWith(id)) {
          candidates.add(known);
        }
      }
      if (id.isEmpty() || candidates.isEmpty()) {
        return Optional.of(
            "no session " + id + " in the journal (portcullis audit show lists none)");
      }
      return Optional.of(
          id
              + " is not a whole session id; it begins "
              + (candidates.size() == 1 ? "" : candidates.size() + " sessions, e.g. ")
              + candidates.get(0));
    }
    List<ChainCheck.Break> breaks = ChainCheck.check("session " + id, events);
    if (!breaks.isEmpty()) {
      return Optional.of(
          "the journal of session "
              + id
              + " does not verify ("
              + breaks.get(0)
              + "); a replay of it would prove nothing");
    }
    if (!(events.get(events.size() - 1).event() instanceof SessionEvent.SessionClosed)) {
      return Optional.of(
          "session " + id + " has not ended in the journal; replay it once it has closed");
    }
    return Optional.empty();
  }

  private String authorise(AdminApi api, String id, Sandbox sandbox) throws Failure {
    ObjectNode body = JSON.createObjectNode();
    body.putArray("sessions").add(id);
    body.put("host", sandbox.host());
    body.put("port", sandbox.port());
    body.put("database", sandbox.database());
    body.put("user", sandbox.user());
    body.put("force", force);
    body.put("commit", commit);
    JsonNode answer = api.post("/api/v1/replays", body);
    return answer.path("replay").asText();
  }

  /** The gateway's masking key: without it, values masked with {@code hash} cannot match. */
  private ValueMasker maskingKey(PrintWriter err) throws IOException {
    String file =
        loaded.hasPath("portcullis.policy.masking-key-file")
            ? loaded.getString("portcullis.policy.masking-key-file")
            : "";
    if (!file.isBlank()) {
      return ValueMasker.fromKeyFile(Path.of(file));
    }
    err.println(
        "portcullis: warning: no portcullis.policy.masking-key-file; results with values masked"
            + " by strategy hash will differ from the journal");
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return new ValueMasker(key);
  }

  private URI base() {
    return URI.create(admin.url.replaceAll("/+$", ""));
  }
}
