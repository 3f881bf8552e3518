package io.portcullis.node.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code portcullis} command line. */
@Command(
    name = "portcullis",
    mixinStandardHelpOptions = true,
    version = "Portcullis 0.1.0",
    description = "Audited, policy-enforcing gateway between AI agents and PostgreSQL.",
    subcommands = {
      RunCommand.class,
      TokenCommand.class,
      PolicyCommand.class,
      ApprovalsCommand.class,
      AuditCommand.class,
      ReplayCommand.class
    })
public final class PortcullisCommand implements Runnable {

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  /** The JDK's own setting; read once, when the common pool is first used. */
  private static final String COMMON_POOL_THREADS =
      "java.util.concurrent.ForkJoinPool.common.parallelism";

  public static void main(String[] args) {
    // Callbacks of the futures Pekko's Java API hands back run on the common pool, which has one
    // thread on a two-core machine; with fewer than two the JDK starts a thread per callback.
    if (System.getProperty(COMMON_POOL_THREADS) == null) {
      System.setProperty(
          COMMON_POOL_THREADS,
          Integer.toString(Math.max(2, Runtime.getRuntime().availableProcessors() - 1)));
    }
    int exit = new CommandLine(new PortcullisCommand()).execute(args);
    if (exit != 0) {
      System.exit(exit);
    }
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }
}
