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

  public static void main(String[] args) {
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
