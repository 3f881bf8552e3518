package io.portcullis.node.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.portcullis.node.config.ConfigLoader;
import io.portcullis.node.config.OidcSettings;
import io.portcullis.policy.identity.DevIssuer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code portcullis token}: development tokens. */
@Command(
    name = "token",
    mixinStandardHelpOptions = true,
    description = "Development tokens (only with the dev issuer enabled).",
    subcommands = {TokenCommand.Mint.class})
final class TokenCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  @Command(
      name = "mint",
      mixinStandardHelpOptions = true,
      description =
          "Print a token signed by the dev issuer, to use as the password. Refused unless"
              + " portcullis.client-authentication.oidc.dev-issuer.enabled = true.")
  static final class Mint implements Callable<Integer> {

    @Option(names = "--sub", required = true, description = "User name the token is for.")
    String subject;

    @Option(
        names = "--groups",
        split = ",",
        defaultValue = "",
        description = "Comma-separated groups.")
    List<String> groups;

    @Option(names = "--agent", description = "Mark the identity as an agent, not a person.")
    boolean agent;

    @Option(names = "--ttl", defaultValue = "PT1H", description = "Lifetime, ISO-8601 (PT15M).")
    Duration lifetime;

    @Option(
        names = {"-c", "--config"},
        paramLabel = "FILE",
        description = "The gateway's configuration file.")
    Path config;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Config oidc;
      try {
        oidc =
            ConfigLoader.load(Optional.ofNullable(config), ConfigFactory.empty())
                .getConfig("portcullis.client-authentication.oidc");
      } catch (ConfigException e) {
        spec.commandLine().getErr().println("portcullis: invalid configuration: " + e.getMessage());
        return 2;
      }
      Optional<DevIssuer> issuer = OidcSettings.devIssuer(oidc);
      if (issuer.isEmpty()) {
        spec.commandLine()
            .getErr()
            .println(
                "portcullis: the dev issuer is disabled; set"
                    + " portcullis.client-authentication.oidc.dev-issuer.enabled = true (development"
                    + " only) to mint tokens");
        return 2;
      }
      if (lifetime.isNegative() || lifetime.isZero()) {
        spec.commandLine().getErr().println("portcullis: --ttl must be positive");
        return 2;
      }
      List<String> audiences = oidc.getStringList("issuer-defaults.audiences");
      LinkedHashSet<String> groupSet = new LinkedHashSet<>(groups);
      groupSet.remove("");
      System.out.println(issuer.get().mint(subject, groupSet, agent, lifetime, audiences.get(0)));
      return 0;
    }
  }
}
