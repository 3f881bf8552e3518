package io.portcullis.node.session;

import io.portcullis.node.config.GatewaySettings.StartupPolicy;
import io.portcullis.node.config.TargetSettings;
import io.portcullis.protocol.BackendMessage.NegotiateProtocolVersion;
import io.portcullis.protocol.FrontendMessage.Startup;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Decides what a client's StartupMessage may ask for: which target, which user, and which of its
 * parameters reach the upstream. Anything that could change the upstream session's behaviour behind
 * the policy's back (a {@code search_path} in {@code options}, a replication connection, an unknown
 * GUC passed as a startup parameter) is refused here, before a connection is made.
 */
public final class StartupNegotiation {

  private static final Set<String> UTF8_ENCODINGS = Set.of("UTF8", "UTF-8", "UNICODE", "SQL_ASCII");
  private static final Set<String> FALSE_WORDS = Set.of("false", "0", "off", "no");

  /** The outcome of negotiating a StartupMessage. */
  public sealed interface Outcome {}

  /**
   * @param user the user name the client gave: its identity, checked by the authenticator
   * @param target the upstream the client selected with {@code database}
   * @param upstreamParameters what the gateway sends upstream besides user and database
   * @param negotiation what to answer first when the client asked for a newer minor version or for
   *     protocol options the gateway does not support
   */
  public record Accepted(
      String user,
      TargetSettings target,
      Map<String, String> upstreamParameters,
      Optional<NegotiateProtocolVersion> negotiation)
      implements Outcome {}

  public record Refused(String sqlState, String message) implements Outcome {}

  private final StartupPolicy policy;
  private final Map<String, TargetSettings> targets;

  public StartupNegotiation(StartupPolicy policy, Map<String, TargetSettings> targets) {
    this.policy = policy;
    this.targets = targets;
  }

  public Outcome negotiate(Startup startup) {
    Map<String, String> params = startup.parameters();
    String user = params.getOrDefault("user", "");
    if (user.isEmpty()) {
      return new Refused("28000", "no PostgreSQL user name specified in startup packet");
    }
    String database = params.getOrDefault("database", user);
    TargetSettings target = targets.get(database);
    if (target == null) {
      // Said before the client has authenticated: name no other target.
      return new Refused("3D000", "database \"" + database + "\" is not a target of this gateway");
    }
    Map<String, String> upstream = new LinkedHashMap<>();
    List<String> unsupportedOptions = new ArrayList<>();
    for (Map.Entry<String, String> param : params.entrySet()) {
      String name = param.getKey();
      String value = param.getValue();
      if (name.startsWith("_pq_.")) {
        unsupportedOptions.add(name);
        continue;
      }
      Optional<Refused> refusal =
          switch (name) {
            case "user", "database" -> Optional.empty();
            case "replication" -> replication(value);
            case "client_encoding" -> clientEncoding(value);
            case "options" -> options(value, upstream);
            default -> parameter(name, value, upstream);
          };
      if (refusal.isPresent()) {
        return refusal.get();
      }
    }
    // Policy and masking read statements and values as UTF-8, so the upstream always speaks it.
    upstream.put("client_encoding", "UTF8");
    int minor = startup.protocolVersion() & 0xFFFF;
    Optional<NegotiateProtocolVersion> negotiation =
        minor > 0 || !unsupportedOptions.isEmpty()
            ? Optional.of(new NegotiateProtocolVersion(0, List.copyOf(unsupportedOptions)))
            : Optional.empty();
    return new Accepted(user, target, Map.copyOf(upstream), negotiation);
  }

  private static Optional<Refused> replication(String value) {
    if (FALSE_WORDS.contains(value.toLowerCase(Locale.ROOT))) {
      return Optional.empty();
    }
    return Optional.of(
        new Refused("0A000", "replication connections are not allowed through Portcullis"));
  }

  private static Optional<Refused> clientEncoding(String value) {
    if (UTF8_ENCODINGS.contains(value.toUpperCase(Locale.ROOT))) {
      return Optional.empty();
    }
    return Optional.of(
        new Refused(
            "22023",
            "client_encoding \""
                + value
                + "\" is not supported by Portcullis; connect with client_encoding=UTF8"));
  }

  private Optional<Refused> parameter(String name, String value, Map<String, String> upstream) {
    if (!policy.allowedParameters().contains(name)) {
      return Optional.of(
          new Refused(
              "42501",
              "startup parameter \""
                  + name
                  + "\" is not allowed through Portcullis"
                  + " (see portcullis.startup.allowed-parameters)"));
    }
    upstream.put(name, value);
    return Optional.empty();
  }

  private Optional<Refused> options(String value, Map<String, String> upstream) {
    List<String> words = splitOptions(value);
    for (int i = 0; i < words.size(); i++) {
      String word = words.get(i);
      String setting;
      if (word.equals("-c") && i + 1 < words.size()) {
        setting = words.get(++i);
      } else if (word.startsWith("-c") && word.length() > 2) {
        setting = word.substring(2);
      } else if (word.startsWith("--") && word.length() > 2) {
        setting = word.substring(2);
      } else {
        return Optional.of(
            new Refused(
                "42501",
                "startup option \""
                    + word
                    + "\" is not allowed through Portcullis;"
                    + " only -c name=value settings are accepted"));
      }
      int equals = setting.indexOf('=');
      if (equals <= 0) {
        return Optional.of(new Refused("22023", "startup option \"" + setting + "\" has no value"));
      }
      String name = setting.substring(0, equals).replace('-', '_');
      if (!policy.allowedOptions().contains(name)) {
        return Optional.of(
            new Refused(
                "42501",
                "setting \""
                    + name
                    + "\" in startup options is not allowed through Portcullis"
                    + " (see portcullis.startup.allowed-options)"));
      }
      upstream.put(name, setting.substring(equals + 1));
    }
    return Optional.empty();
  }

  /**
   * Splits {@code options} as PostgreSQL's pg_split_opts does: spaces separate, backslash escapes.
   */
  static List<String> splitOptions(String options) {
    List<String> words = new ArrayList<>();
    StringBuilder word = new StringBuilder();
    boolean inWord = false;
    for (int i = 0; i < options.length(); i++) {
      char c = options.charAt(i);
      if (Character.isWhitespace(c)) {
        if (inWord) {
          words.add(word.toString());
          word.setLength(0);
          inWord = false;
        }
        continue;
      }
      inWord = true;
      if (c == '\\' && i + 1 < options.length()) {
        c = options.charAt(++i);
      }
      word.append(c);
    }
    if (inWord) {
      words.add(word.toString());
    }
    return words;
  }
}
