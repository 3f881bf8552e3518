package io.portcullis.node.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

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
    UpstreamTls tls,
    Duration connectTimeout) {

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
        new UpstreamTls(mode, caFile),
        config.getDuration("connect-timeout"));
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
