package io.portcullis.node.cli;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.config.ConfigLoader;
import io.portcullis.policy.rules.PolicyException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code portcullis run}: starts a gateway node and runs until it is stopped. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Run a gateway node (a cluster of one unless seed nodes are configured).")
final class RunCommand implements Callable<Integer> {

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description = "HOCON file whose keys override the defaults (see docs/configuration.md).")
  Path config;

  @Override
  public Integer call() throws Exception {
    GatewayNode node;
    try {
      node =
          GatewayNode.start(
              ConfigLoader.load(
                  Optional.ofNullable(config),
                  ConfigFactory.parseString("pekko.coordinated-shutdown.exit-jvm = on")));
    } catch (ConfigException e) {
      System.err.println("portcullis: invalid configuration: " + e.getMessage());
      return 2;
    } catch (java.io.IOException e) {
      System.err.println("portcullis: cannot read the policy file: " + e);
      return 2;
    } catch (PolicyException e) {
      System.err.println("portcullis: the policy file does not validate:\n" + e.getMessage());
      return 2;
    }
    node.system().getWhenTerminated().toCompletableFuture().join();
    return 0;
  }
}
