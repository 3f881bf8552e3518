package io.portcullis.node.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * One upstream PostgreSQL database and the credentials the gateway uses for it. Clients select a
 * target by name and never learn these credentials.
 */
public record TargetSettings(
    String name,
    String host,
    int port,
    String database,
    String user,
    PasswordSource password,
    List<GroupLogin> groupLogins,
    Optional<String> setRole,
    UpstreamTls tls,
    Duration connectTimeout) {

  /** The role the gateway logs in to the upstream as, and where its password comes from. */
  public record UpstreamLogin(String user, PasswordSource password) {}

  /** Sessions of identities in {@code group} log in as {@code login} instead of the default. */
  public record GroupLogin(String group, UpstreamLogin login) {}

  /** The first group login whose group the identity has, else the target's own user. */
  public UpstreamLogin loginFor(Set<String> groups) {
    return groupLogins.stream()
        .filter(groupLogin -> groups.contains(groupLogin.group()))
        .map(GroupLogin::login)
        .findFirst()
        .orElse(new UpstreamLogin(user, password));
  }

  /** The role to SET after login for this identity, with {@code {user}} replaced. */
  public Optional<String> setRoleFor(String identity) {
    return setRole.map(template -> template.replace("{user}", identity));
  }

  public enum TlsMode {
    DISABLE,
    REQUIRE,
    VERIFY_FULL
  }

  public record UpstreamTls(TlsMode mode, Optional<Path> caFile) {}

  /** Where the upstream password comes from; resolved at connect time so rotations apply. */
  public sealed interface PasswordSource {
    Optional<String> resolve();

    record None() implements PasswordSource {
      public Optional<String> resolve() {
        return Optional.empty();
      }
    }

    record Literal(String password) implements PasswordSource {
      public Optional<String> resolve() {
        return Optional.of(password);
      }

      @Override
      public String toString() {
        return "Literal[***]";
      }
    }

    record EnvironmentVariable(String name) implements PasswordSource {
      public Optional<String> resolve() {
        String value = System.getenv(name);
        if (value == null) {
          throw new IllegalStateException(
              "environment variable " + name + " (the upstream password) is not set");
        }
        return Optional.of(value);
      }
    }

    record File(Path path) implements PasswordSource {
      public Optional<String> resolve() {
        try {
          return Optional.of(Files.readAllLines(path).stream().findFirst().orElse(""));
        } catch (IOException e) {
          throw new IllegalStateException("cannot read the upstream password file " + path, e);
        }
      }
    }
  }

  static TargetSettings from(String name, Config config) {
    String path = "portcullis.targets." + name;
    TlsMode mode;
    try {
      mode = TlsMode.valueOf(config.getString("tls.mode").toUpperCase().replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(
          path + ".tls.mode", "expected disable, require or verify-full");
    }
    Optional<Path> caFile = GatewaySettings.optionalPath(config, "tls.ca-file");
    if (mode == TlsMode.VERIFY_FULL && caFile.isEmpty()) {
      throw new ConfigException.BadValue(path + ".tls.ca-file", "verify-full needs a CA file");
    }
    return new TargetSettings(
        name,
        config.getString("host"),
        config.getInt("port"),
        config.getString("database"),
        config.getString("user"),
        passwordSource(path, config),
        groupLogins(path, config),
        config.getString("set-role").isEmpty()
            ? Optional.empty()
            : Optional.of(config.getString("set-role")),
        new UpstreamTls(mode, caFile),
        config.getDuration("connect-timeout"));
  }

  private static List<GroupLogin> groupLogins(String path, Config config) {
    List<GroupLogin> logins = new ArrayList<>();
    List<? extends Config> entries = config.getConfigList("group-logins");
    for (int i = 0; i < entries.size(); i++) {
      Config entry =
          entries
              .get(i)
              .withFallback(
                  ConfigFactory.parseMap(
                      Map.of("password", "", "password-env", "", "password-file", "")));
      String entryPath = path + ".group-logins[" + i + "]";
      logins.add(
          new GroupLogin(
              entry.getString("group"),
              new UpstreamLogin(entry.getString("user"), passwordSource(entryPath, entry))));
    }
    return List.copyOf(logins);
  }

  private static PasswordSource passwordSource(String path, Config config) {
    String literal = config.getString("password");
    String env = config.getString("password-env");
    String file = config.getString("password-file");
    int given = (literal.isEmpty() ? 0 : 1) + (env.isEmpty() ? 0 : 1) + (file.isEmpty() ? 0 : 1);
    if (given > 1) {
      throw new ConfigException.BadValue(
          path, "set only one of password, password-env and password-file");
    }
    if (!literal.isEmpty()) {
      return new PasswordSource.Literal(literal);
    }
    if (!env.isEmpty()) {
      return new PasswordSource.EnvironmentVariable(env);
    }
    if (!file.isEmpty()) {
      return new PasswordSource.File(Path.of(file));
    }
    return new PasswordSource.None();
  }
}
