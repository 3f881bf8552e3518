package io.portcullis.node.cli;

import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.rules.Policy;
import io.portcullis.policy.rules.PolicyException;
import io.portcullis.policy.rules.PolicyParser;
import io.portcullis.policy.rules.Rule;
import io.portcullis.policy.rules.StatementContext;
import io.portcullis.policy.rules.Verdict;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.policy.sql.StatementKind;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code portcullis policy}: validate a policy file and explain its decisions, for the policy
 * repository's CI as much as for people. Exit codes: 0 fine, 1 the file does not validate (or, with
 * {@code explain --expect}, the decision differs), 2 usage errors.
 */
@Command(
    name = "policy",
    mixinStandardHelpOptions = true,
    description = "Check and explain policy files (docs/policy.md).",
    subcommands = {PolicyCommand.Check.class, PolicyCommand.Explain.class, WhatIfCommand.class})
final class PolicyCommand implements Runnable {

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  /** Reads and validates a file, printing its problems as file:line:column lines. */
  static Policy load(Path file, PrintWriter err) {
    try {
      return PolicyParser.parse(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
    } catch (PolicyException e) {
      e.problems().forEach(problem -> err.println(problem));
      return null;
    } catch (IOException e) {
      err.println(file + ": cannot read the policy file: " + e);
      return null;
    }
  }

  @Command(
      name = "check",
      mixinStandardHelpOptions = true,
      description = "Validate a policy file; print every problem as FILE:LINE:COLUMN: message.")
  static final class Check implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "The policy file.")
    Path file;

    @Override
    public Integer call() throws IOException {
      Policy policy = load(file, spec.commandLine().getErr());
      if (policy == null) {
        return 1;
      }
      spec.commandLine()
          .getOut()
          .printf(
              "%s: valid, %d rules, default %s, version %s%n",
              file, policy.rules().size(), policy.defaultDecision().policyName(), policy.version());
      return 0;
    }
  }

  @Command(
      name = "explain",
      mixinStandardHelpOptions = true,
      description =
          "Show how the policy judges a statement for an identity: what the statement does,"
              + " which rules match, and the decision.")
  static final class Explain implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Parameters(paramLabel = "FILE", description = "The policy file.")
    Path file;

    @Option(names = "--as", required = true, description = "The identity's user name.")
    String subject;

    @Option(names = "--groups", split = ",", defaultValue = "", description = "Its groups.")
    List<String> groups;

    @Option(names = "--agent", description = "The identity is an agent, not a person.")
    boolean agent;

    @Option(names = "--issuer", defaultValue = "dev", description = "Its issuer.")
    String issuer;

    @Option(names = "--target", defaultValue = "main", description = "The gateway target.")
    String target;

    @Option(names = "--address", defaultValue = "127.0.0.1", description = "Client IP address.")
    String address;

    @Option(names = "--application-name", defaultValue = "", description = "application_name.")
    String applicationName;

    @Option(
        names = "--at",
        description = "When the statement is sent, ISO-8601 (2026-03-02T09:00:00Z); default now.")
    Instant at;

    @Option(names = "--sql", required = true, description = "The statement(s), as sent.")
    String sql;

    @Option(
        names = "--expect",
        description = "Exit 1 unless the decision is this one (allow, review or deny).")
    String expect;

    @Override
    public Integer call() throws IOException {
      PrintWriter out = spec.commandLine().getOut();
      Policy policy = load(file, spec.commandLine().getErr());
      if (policy == null) {
        return 1;
      }
      Set<String> groupSet = new TreeSet<>(groups);
      groupSet.remove("");
      StatementContext context =
          new StatementContext(
              new Identity(subject, issuer, groupSet, agent),
              target,
              InetAddress.getByName(address),
              applicationName,
              at != null ? at : Instant.now());
      List<StatementAnalysis> statements = new SqlAnalyzer().analyze(sql, true);
      for (StatementAnalysis statement : statements) {
        out.println("statement: " + statement.text());
        out.println("  kinds:          " + names(statement.kinds()));
        out.println(
            "  tables read:    " + String.join(", ", new TreeSet<>(statement.tablesRead())));
        out.println(
            "  tables written: " + String.join(", ", new TreeSet<>(statement.tablesWritten())));
        out.println("  columns:        " + String.join(", ", new TreeSet<>(statement.columns())));
        out.println("  functions:      " + String.join(", ", new TreeSet<>(statement.functions())));
        statement.setting().ifPresent(setting -> out.println("  setting:        " + setting));
        if (!statement.signals().isEmpty()) {
          out.println(
              "  signals:        "
                  + statement.signals().stream()
                      .map(signal -> signal.policyName())
                      .collect(Collectors.joining(", ")));
        }
        statement.unparsedReason().ifPresent(reason -> out.println("  unparsed:       " + reason));
        List<Rule> matching = policy.matching(context, statement);
        out.println(
            "  matching rules: "
                + (matching.isEmpty()
                    ? "none (the default applies)"
                    : matching.stream()
                        .map(rule -> rule.id() + " (" + rule.decision().policyName() + ")")
                        .collect(Collectors.joining(", "))));
      }
      Verdict verdict = policy.evaluateAll(context, statements);
      out.println(
          "decision: "
              + verdict.decision().policyName()
              + (verdict.ruleIds().isEmpty()
                  ? " (default)"
                  : " by " + String.join(", ", verdict.ruleIds()))
              + (verdict.reason().isEmpty() ? "" : ": " + verdict.reason()));
      out.println("policy version: " + policy.version());
      if (expect != null && !expect.equalsIgnoreCase(verdict.decision().policyName())) {
        spec.commandLine()
            .getErr()
            .println(
                "expected " + expect + " but the decision is " + verdict.decision().policyName());
        return 1;
      }
      return 0;
    }

    private static String names(Set<StatementKind> kinds) {
      return kinds.stream()
          .map(StatementKind::policyName)
          .sorted()
          .collect(Collectors.joining(", "));
    }
  }
}
