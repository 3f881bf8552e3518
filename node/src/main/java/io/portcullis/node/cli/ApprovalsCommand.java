package io.portcullis.node.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code portcullis approvals}: list, inspect, approve and deny the requests that {@code review}
 * rules hold for approval, through the gateway's admin HTTP API (docs/admin-api.md). Exit codes: 0
 * done; 1 the API answered with an error; 2 usage errors, no token, the API unreachable or TLS
 * failing.
 */
@Command(
    name = "approvals",
    mixinStandardHelpOptions = true,
    description =
        "List, show, approve and deny approval requests through the gateway's admin API"
            + " (docs/admin-api.md).",
    footer = {
      "",
      "Your token is your own OIDC access token, from the same issuers as client logins. It is read"
          + " from --token-file FILE (first line) or the environment variable PORTCULLIS_TOKEN."
          + " There is no --token option on purpose: a token on the command line leaks into shell"
          + " history and process lists.",
      "",
      "Exit status: 0 done; 1 the admin API answered with an error; 2 usage error, no token,"
          + " admin API unreachable, or TLS failure."
    },
    subcommands = {
      ApprovalsCommand.ListApprovals.class,
      ApprovalsCommand.Show.class,
      ApprovalsCommand.Approve.class,
      ApprovalsCommand.Deny.class
    })
final class ApprovalsCommand implements Runnable {

  private static final Pattern ID = Pattern.compile("a-[0-9a-f]{12}(?:-(?:[2-9]|[1-9][0-9]+))?");
  private static final Set<String> STATUSES =
      Set.of("pending", "approved", "denied", "expired", "executed", "all");
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Pattern ERROR_DESCRIPTION =
      Pattern.compile("error_description=\"([^\"]*)\"");
  private static final ObjectMapper JSON =
      JsonMapper.builder()
          .addModule(new JavaTimeModule())
          .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
          .build();

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  record Requester(String subject, String issuer, List<String> groups, boolean agent) {
    Requester {
      groups = groups == null ? List.of() : groups;
    }
  }

  record Approver(String subject, String issuer) {}

  record Decision(Approver approver, String decision, String reason, Instant at) {}

  record Approval(
      String id,
      String status,
      String kind,
      Requester requester,
      String session,
      String target,
      String statement,
      List<String> parameters,
      List<String> rules,
      String reason,
      String policyVersion,
      String mode,
      List<String> approverGroups,
      int required,
      String grant,
      Instant grantUntil,
      List<Decision> decisions,
      Instant requestedAt,
      Instant expiresAt,
      Instant executedAt) {
    Approval {
      parameters = parameters == null ? List.of() : parameters;
      rules = rules == null ? List.of() : rules;
      approverGroups = approverGroups == null ? List.of() : approverGroups;
      decisions = decisions == null ? List.of() : decisions;
    }

    long approvals() {
      return decisions.stream().filter(decision -> "approve".equals(decision.decision())).count();
    }
  }

  record ApprovalList(List<Approval> approvals) {
    ApprovalList {
      approvals = approvals == null ? List.of() : approvals;
    }
  }

  /** Ends a command with an exit code and a message for stderr. */
  static final class Failure extends Exception {
    final int exitCode;

    Failure(int exitCode, String message) {
      super(message);
      this.exitCode = exitCode;
    }
  }

  /** Where the admin API is, and how to prove to it who you are. */
  static final class AdminOptions {

    @Option(
        names = "--url",
        paramLabel = "URL",
        defaultValue = "${env:PORTCULLIS_ADMIN_URL:-http://127.0.0.1:6480}",
        description =
            "The gateway's admin API. Default: $PORTCULLIS_ADMIN_URL, else"
                + " http://127.0.0.1:6480.")
    String url;

    @Option(
        names = "--token-file",
        paramLabel = "FILE",
        description =
            "A file whose first line is your OIDC access token. Default: the token in"
                + " $PORTCULLIS_TOKEN. (No --token option: it would leak into shell history and"
                + " process lists.)")
    Path tokenFile;

    @Option(
        names = "--ca-file",
        paramLabel = "PEM",
        description =
            "Trust only the CA certificate(s) in this PEM file for an https URL, instead of the"
                + " JVM's trust store.")
    Path caFile;

    @Option(
        names = "--format",
        paramLabel = "FORMAT",
        defaultValue = "text",
        description = "text (default), or json: the API's JSON, pretty-printed.")
    String format;
  }

  /** What every subcommand shares: checking its arguments, then one call to the admin API. */
  abstract static class ApiCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin AdminOptions admin;

    @Override
    public final Integer call() {
      if (!admin.format.equals("text") && !admin.format.equals("json")) {
        throw usage("--format must be text or json, not '" + printable(admin.format) + "'");
      }
      check();
      URI base = base();
      PrintWriter err = spec.commandLine().getErr();
      try {
        AdminApi api = AdminApi.open(base, admin, err);
        JsonNode answer = ask(api);
        PrintWriter out = spec.commandLine().getOut();
        if (admin.format.equals("json")) {
          out.println(answer.toPrettyString());
        } else {
          print(api, answer, out);
        }
        return 0;
      } catch (Failure failure) {
        err.println("portcullis: " + failure.getMessage());
        return failure.exitCode;
      }
    }

    /** Checks the arguments before anything is sent; throws {@link #usage} when they are wrong. */
    void check() {}

    abstract JsonNode ask(AdminApi api) throws Failure;

    abstract void print(AdminApi api, JsonNode answer, PrintWriter out) throws Failure;

    private URI base() {
      URI base;
      try {
        base = new URI(admin.url.replaceAll("/+$", ""));
      } catch (URISyntaxException e) {
        throw usage("--url '" + printable(admin.url) + "' is not a URL: " + e.getReason());
      }
      String scheme = base.getScheme() == null ? "" : base.getScheme().toLowerCase(Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || base.getHost() == null) {
        throw usage(
            "--url '"
                + printable(admin.url)
                + "' is not an http:// or https:// URL such as http://127.0.0.1:6480");
      }
      return base;
    }

    ParameterException usage(String message) {
      return new ParameterException(spec.commandLine(), message);
    }

    void checkId(String id) {
      if (!ID.matcher(id).matches()) {
        throw usage(
            "'"
                + printable(id)
                + "' is not an approval id: ids are a- and 12 lowercase hex digits, sometimes"
                + " followed by -N (a-3f9c01d2e4b7, a-3f9c01d2e4b7-2); `portcullis approvals"
                + " list` shows them");
      }
    }
  }

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "List approval requests, newest first.")
  static final class ListApprovals extends ApiCommand {

    @Option(
        names = "--status",
        paramLabel = "STATUS",
        defaultValue = "pending",
        description = "pending (default), approved, denied, expired, executed or all.")
    String status;

    @Override
    void check() {
      if (!STATUSES.contains(status)) {
        throw usage(
            "--status must be pending, approved, denied, expired, executed or all, not '"
                + printable(status)
                + "'");
      }
    }

    @Override
    JsonNode ask(AdminApi api) throws Failure {
      return api.get("/api/v1/approvals?status=" + status);
    }

    @Override
    void print(AdminApi api, JsonNode answer, PrintWriter out) throws Failure {
      List<Approval> approvals = api.read(answer, ApprovalList.class).approvals();
      if (approvals.isEmpty()) {
        out.println(status.equals("all") ? "no approvals" : "no " + status + " approvals");
        return;
      }
      Instant now = Instant.now();
      List<List<String>> rows = new ArrayList<>();
      rows.add(List.of("ID", "STATUS", "REQUESTER", "TARGET", "RULES", "EXPIRES", "STATEMENT"));
      for (Approval approval : approvals) {
        rows.add(
            List.of(
                printable(approval.id()),
                printable(approval.status()),
                requester(approval.requester()),
                printable(approval.target()),
                printable(String.join(",", approval.rules())),
                relative(approval.expiresAt(), now),
                printable(firstCharacters(approval.statement(), 60))));
      }
      printTable(rows, out);
    }
  }

  @Command(
      name = "show",
      mixinStandardHelpOptions = true,
      description =
          "Show one approval request in full: the statement, its parameters, the rules and the"
              + " decisions so far.")
  static final class Show extends ApiCommand {

    @Parameters(paramLabel = "ID", description = "The approval id, as in a-3f9c01d2e4b7.")
    String id;

    @Override
    void check() {
      checkId(id);
    }

    @Override
    JsonNode ask(AdminApi api) throws Failure {
      return api.get("/api/v1/approvals/" + id);
    }

    @Override
    void print(AdminApi api, JsonNode answer, PrintWriter out) throws Failure {
      Approval approval = api.read(answer, Approval.class);
      Instant now = Instant.now();
      Requester requester = approval.requester();
      out.println("id:             " + printable(approval.id()));
      out.println("status:         " + printable(approval.status()));
      out.println("kind:           " + printable(approval.kind()));
      out.println(
          "requester:      "
              + requester(requester)
              + ", issuer "
              + printable(requester.issuer())
              + ", groups "
              + listed(requester.groups()));
      out.println("session:        " + printable(approval.session()));
      out.println("target:         " + printable(approval.target()));
      out.println("rules:          " + listed(approval.rules()));
      out.println("reason:         " + printable(approval.reason()));
      out.println("policy version: " + printable(approval.policyVersion()));
      out.println("mode:           " + printable(approval.mode()));
      out.println("approvers:      " + listed(approval.approverGroups()));
      out.println("approvals:      " + approval.approvals() + " of " + approval.required());
      out.println(
          "grant:          "
              + (approval.grant() == null
                  ? "none"
                  : printable(approval.grant())
                      + (approval.grantUntil() == null
                          ? ""
                          : ", until " + when(approval.grantUntil(), now))));
      out.println("requested at:   " + when(approval.requestedAt(), now));
      out.println("expires at:     " + when(approval.expiresAt(), now));
      out.println("executed at:    " + when(approval.executedAt(), now));
      out.println("statement:");
      for (String line : approval.statement().stripTrailing().split("\\R", -1)) {
        out.println("  " + printable(line));
      }
      if (approval.parameters().isEmpty()) {
        out.println("parameters:     none");
      } else {
        out.println("parameters:");
        for (int i = 0; i < approval.parameters().size(); i++) {
          String value = approval.parameters().get(i);
          out.println(
              "  $"
                  + (i + 1)
                  + " = "
                  + (value == null ? "NULL" : "'" + printable(value.replace("'", "''")) + "'"));
        }
      }
      if (approval.decisions().isEmpty()) {
        out.println("decisions:      none");
      } else {
        out.println("decisions:");
        for (Decision decision : approval.decisions()) {
          out.println(
              "  "
                  + decision.at()
                  + "  "
                  + printable(decision.decision())
                  + "  "
                  + printable(decision.approver().subject())
                  + " ("
                  + printable(decision.approver().issuer())
                  + ")"
                  + (decision.reason() == null || decision.reason().isBlank()
                      ? ""
                      : ": " + printable(decision.reason())));
        }
      }
    }
  }

  /** Approving and denying: a POST with a reason, answered by the approval as it now stands. */
  abstract static class Decide extends ApiCommand {

    @Parameters(paramLabel = "ID", description = "The approval id, as in a-3f9c01d2e4b7.")
    String id;

    /** {@code approve} or {@code deny}: the API's path and its name for the decision. */
    abstract String verb();

    abstract String reason();

    @Override
    void check() {
      checkId(id);
    }

    @Override
    JsonNode ask(AdminApi api) throws Failure {
      ObjectNode body = JSON.createObjectNode();
      if (reason() != null) {
        body.put("reason", reason());
      }
      return api.post("/api/v1/approvals/" + id + "/" + verb(), body);
    }

    @Override
    void print(AdminApi api, JsonNode answer, PrintWriter out) throws Failure {
      Approval approval = api.read(answer, Approval.class);
      // Decisions are in the order they were made, so the caller's is the last of its kind.
      String by =
          approval.decisions().stream()
              .filter(decision -> verb().equals(decision.decision()))
              .reduce((first, second) -> second)
              .map(decision -> printable(decision.approver().subject()))
              .orElse("you");
      out.println(printable(approval.id()) + " " + outcome(approval, by));
    }

    abstract String outcome(Approval approval, String by);
  }

  @Command(
      name = "approve",
      mixinStandardHelpOptions = true,
      description =
          "Approve a request. You must be in one of its rule's approver groups, and not its"
              + " requester.")
  static final class Approve extends Decide {

    @Option(names = "--reason", paramLabel = "TEXT", description = "Why, for the audit trail.")
    String reason;

    @Override
    String verb() {
      return "approve";
    }

    @Override
    String reason() {
      return reason;
    }

    @Override
    String outcome(Approval approval, String by) {
      long approvals = approval.approvals();
      String approved = "approved by " + by + " (" + approvals + " of " + approval.required() + ")";
      String requester = printable(approval.requester().subject());
      switch (approval.status()) {
        case "pending":
          long missing = approval.required() - approvals;
          return approved
              + "; waiting for "
              + missing
              + " more approver"
              + (missing == 1 ? "" : "s");
        case "approved":
          if ("grant".equals(approval.kind())) {
            return approved
                + "; "
                + requester
                + "'s statements under "
                + listed(approval.rules())
                + " may run until "
                + when(approval.grantUntil(), Instant.now());
          }
          if ("retry".equals(approval.mode())) {
            return approved + "; the statement runs once when " + requester + " sends it again";
          }
          return approved + "; the statement may run";
        default:
          return approved + "; the request is now " + printable(approval.status());
      }
    }
  }

  @Command(
      name = "deny",
      mixinStandardHelpOptions = true,
      description =
          "Deny a request. The reason is recorded and, in wait mode, sent to the client with the"
              + " refusal.")
  static final class Deny extends Decide {

    @Option(
        names = "--reason",
        paramLabel = "TEXT",
        required = true,
        description = "Why the request is denied; required.")
    String reason;

    @Override
    void check() {
      super.check();
      if (reason.isBlank()) {
        throw usage("--reason must say why the request is denied");
      }
    }

    @Override
    String verb() {
      return "deny";
    }

    @Override
    String reason() {
      return reason;
    }

    @Override
    String outcome(Approval approval, String by) {
      return "denied by "
          + by
          + ("grant".equals(approval.kind())
              ? "; no access is granted"
              : "; the statement will not run");
    }
  }

  /** The admin HTTP API, called with one person's token. */
  static final class AdminApi {

    private final URI base;
    private final String token;
    private final HttpClient http;

    private AdminApi(URI base, String token, HttpClient http) {
      this.base = base;
      this.token = token;
      this.http = http;
    }

    static AdminApi open(URI base, AdminOptions options, PrintWriter err) throws Failure {
      String token = token(options);
      if (base.getScheme().equalsIgnoreCase("http") && !loopback(base.getHost())) {
        err.println(
            "portcullis: warning: your token goes to "
                + base
                + " without TLS; put TLS on the admin API (portcullis.admin.tls) and use https");
      }
      HttpClient.Builder http =
          HttpClient.newBuilder()
              .version(HttpClient.Version.HTTP_1_1)
              .connectTimeout(TIMEOUT)
              .followRedirects(HttpClient.Redirect.NEVER);
      if (options.caFile != null) {
        http.sslContext(trusting(options.caFile));
      }
      return new AdminApi(base, token, http.build());
    }

    JsonNode get(String path) throws Failure {
      return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    JsonNode post(String path, ObjectNode body) throws Failure {
      return send(
          HttpRequest.newBuilder(uri(path))
              .header("Content-Type", "application/json")
              .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
    }

    <T> T read(JsonNode answer, Class<T> type) throws Failure {
      try {
        return JSON.treeToValue(answer, type);
      } catch (JsonProcessingException e) {
        throw notTheApi(e.getOriginalMessage());
      } catch (IllegalArgumentException e) {
        throw notTheApi(e.getMessage());
      }
    }

    private URI uri(String path) {
      return URI.create(base + path);
    }

    private JsonNode send(HttpRequest.Builder request) throws Failure {
      HttpResponse<String> response;
      try {
        response =
            http.send(
                request
                    .timeout(TIMEOUT)
                    .header("Authorization", "Bearer " + token)
                    .header("Accept", "application/json")
                    .build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      } catch (IOException e) {
        throw unreachable(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Failure(2, "interrupted while waiting for " + base);
      }
      JsonNode body;
      try {
        body = JSON.readTree(response.body());
      } catch (JsonProcessingException e) {
        // A proxy's error page, or not the admin API at all.
        body = MissingNode.getInstance();
      }
      int status = response.statusCode();
      if (status >= 200 && status < 300) {
        if (!body.isObject()) {
          throw notTheApi("the answer is not a JSON object");
        }
        return body;
      }
      String message;
      if (body.path("error").isTextual()) {
        message = body.get("error").asText();
      } else {
        Matcher description =
            ERROR_DESCRIPTION.matcher(response.headers().firstValue("WWW-Authenticate").orElse(""));
        message = description.find() ? description.group(1) : "the admin API gave no error message";
      }
      throw new Failure(1, printable(message) + " (HTTP " + status + ")");
    }

    private Failure notTheApi(String detail) {
      return new Failure(
          2,
          base
              + " did not answer like the Portcullis admin API ("
              + printable(detail)
              + "); check --url");
    }

    private Failure unreachable(IOException e) {
      String why;
      if (e instanceof HttpConnectTimeoutException) {
        why = "no connection within " + TIMEOUT.toSeconds() + "s";
      } else if (e instanceof HttpTimeoutException) {
        why = "no answer within " + TIMEOUT.toSeconds() + "s";
      } else if (e instanceof ConnectException) {
        // The JDK client's connect failures carry no message; only their cause tells them apart.
        why =
            causedBy(e, UnresolvedAddressException.class)
                ? "unknown host " + base.getHost()
                : "the connection failed";
      } else {
        why = e.getMessage() == null ? e.toString() : e.getMessage();
      }
      if (causedBy(e, SSLException.class)) {
        return new Failure(
            2,
            "TLS with "
                + base
                + " failed: "
                + why
                + "; if the gateway's certificate comes from a private CA, pass it with"
                + " --ca-file; if the admin API has no TLS, use an http:// URL");
      }
      return new Failure(
          2,
          "cannot reach the admin API at "
              + base
              + ": "
              + why
              + "; check that the gateway runs with the admin API on and its portcullis.admin"
              + " settings (host, port, tls), or pass --url / set PORTCULLIS_ADMIN_URL");
    }

    private static boolean causedBy(Throwable e, Class<? extends Throwable> type) {
      for (Throwable cause = e; cause != null; cause = cause.getCause()) {
        if (type.isInstance(cause)) {
          return true;
        }
      }
      return false;
    }

    private static String token(AdminOptions options) throws Failure {
      String token;
      String source;
      if (options.tokenFile != null) {
        source = options.tokenFile.toString();
        try (BufferedReader reader =
            Files.newBufferedReader(options.tokenFile, StandardCharsets.UTF_8)) {
          String line = reader.readLine();
          token = line == null ? "" : line.strip();
        } catch (IOException e) {
          throw new Failure(2, "cannot read --token-file " + source + ": " + reason(e));
        }
      } else {
        source = "PORTCULLIS_TOKEN";
        token = System.getenv().getOrDefault("PORTCULLIS_TOKEN", "").strip();
        if (token.isEmpty()) {
          throw new Failure(
              2,
              "no token: pass --token-file FILE (its first line is your OIDC access token) or"
                  + " set PORTCULLIS_TOKEN");
        }
      }
      if (token.isEmpty()) {
        throw new Failure(2, "the first line of " + source + " is empty: it must be your token");
      }
      if (!token.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
        throw new Failure(2, "the token in " + source + " has characters no token has");
      }
      return token;
    }

    private static SSLContext trusting(Path caFile) throws Failure {
      try (InputStream in = Files.newInputStream(caFile)) {
        Collection<? extends Certificate> certificates =
            CertificateFactory.getInstance("X.509").generateCertificates(in);
        if (certificates.isEmpty()) {
          throw new Failure(2, "--ca-file " + caFile + " holds no PEM certificate");
        }
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        trusted.load(null, null);
        int n = 0;
        for (Certificate certificate : certificates) {
          trusted.setCertificateEntry("ca-" + n++, certificate);
        }
        TrustManagerFactory trust =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
      } catch (IOException e) {
        throw new Failure(2, "cannot read --ca-file " + caFile + ": " + reason(e));
      } catch (GeneralSecurityException e) {
        throw new Failure(
            2, "--ca-file " + caFile + " is not a PEM CA certificate: " + e.getMessage());
      }
    }

    private static String reason(IOException e) {
      if (e instanceof NoSuchFileException) {
        return "no such file";
      }
      if (e instanceof AccessDeniedException) {
        return "permission denied";
      }
      return e.toString();
    }

    private static boolean loopback(String host) {
      try {
        return InetAddress.getByName(host).isLoopbackAddress();
      } catch (UnknownHostException e) {
        return false;
      }
    }
  }

  static String requester(Requester requester) {
    return printable(requester.subject()) + (requester.agent() ? " (agent)" : "");
  }

  static String listed(List<String> names) {
    return names.isEmpty() ? "none" : printable(String.join(", ", names));
  }

  /** The time, and how far it is from now, as in {@code 2026-11-25T22:10:00Z (in 9m)}. */
  static String when(Instant at, Instant now) {
    return at == null ? "-" : at + " (" + relative(at, now) + ")";
  }

  /** {@code in 9m}, {@code 3h ago}: seconds below a minute, minutes below 2 hours, and so on. */
  static String relative(Instant at, Instant now) {
    if (at == null) {
      return "-";
    }
    Duration distance = Duration.between(now, at);
    Duration size = distance.abs();
    String amount;
    if (size.toDays() >= 2) {
      amount = size.toDays() + "d";
    } else if (size.toHours() >= 2) {
      amount = size.toHours() + "h";
    } else if (size.toMinutes() >= 1) {
      amount = size.toMinutes() + "m";
    } else {
      amount = size.toSeconds() + "s";
    }
    return distance.isNegative() ? amount + " ago" : "in " + amount;
  }

  /** The text on one line, whitespace runs collapsed, cut to {@code length} characters. */
  static String firstCharacters(String text, int length) {
    String line = text.strip().replaceAll("\\s+", " ");
    if (line.codePointCount(0, line.length()) <= length) {
      return line;
    }
    return line.substring(0, line.offsetByCodePoints(0, length)) + "...";
  }

  /**
   * Writes control and format characters as Java escapes (backslash, u, four hex digits): the
   * requester writes the statement, and must not be able to hide part of it from the approver with
   * terminal escapes, carriage returns or bidirectional overrides.
   */
  static String printable(String text) {
    if (text == null) {
      return "-";
    }
    StringBuilder out = new StringBuilder(text.length());
    text.codePoints()
        .forEach(
            c -> {
              int type = Character.getType(c);
              if ((type == Character.CONTROL && c != '\t')
                  || type == Character.FORMAT
                  || type == Character.LINE_SEPARATOR
                  || type == Character.PARAGRAPH_SEPARATOR) {
                out.append(String.format("\\u%04x", c));
              } else {
                out.appendCodePoint(c);
              }
            });
    return out.toString();
  }

  static void printTable(List<List<String>> rows, PrintWriter out) {
    int columns = rows.get(0).size();
    int[] widths = new int[columns];
    for (List<String> row : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], row.get(i).codePointCount(0, row.get(i).length()));
      }
    }
    for (List<String> row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        String cell = row.get(i);
        line.append(cell);
        if (i < columns - 1) {
          line.append(" ".repeat(widths[i] - cell.codePointCount(0, cell.length()) + 2));
        }
      }
      out.println(line.toString().stripTrailing());
    }
  }
}
