package io.portcullis.policy.rules;

import io.portcullis.policy.masking.MaskingPolicy;
import io.portcullis.policy.sql.StatementAnalysis;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A loaded policy: rules, the default decision, and a version that identifies its exact content.
 *
 * @param version {@code sha256:} and the hex SHA-256 of the file's bytes
 * @param source the file's text, kept so that any recorded decision can be re-checked
 * @param defaultDecision what applies when no rule matches (unparsed statements are denied then,
 *     whatever the default)
 * @param masking which values in results are masked
 */
public record Policy(
    String version,
    String source,
    Decision defaultDecision,
    List<Rule> rules,
    MaskingPolicy masking) {

  public Policy {
    rules = List.copyOf(rules);
  }

  /** The version as people read it: the first 12 hex digits. */
  public String shortVersion() {
    return version.substring(0, Math.min(version.length(), "sha256:".length() + 12));
  }

  /** Every rule that matches, in file order, whatever its decision. */
  public List<Rule> matching(StatementContext context, StatementAnalysis statement) {
    List<Rule> matching = new ArrayList<>();
    for (Rule rule : rules) {
      if (rule.when().matches(context, statement, rule.decision())) {
        matching.add(rule);
      }
    }
    return matching;
  }

  public Verdict evaluate(StatementContext context, StatementAnalysis statement) {
    List<Rule> matching = matching(context, statement);
    if (matching.isEmpty()) {
      return defaultVerdict(statement);
    }
    Decision decision = Decision.ALLOW;
    for (Rule rule : matching) {
      if (rule.decision().isMoreSevereThan(decision)) {
        decision = rule.decision();
      }
    }
    List<String> ids = new ArrayList<>();
    Rule first = null;
    OptionalLong maxRows = OptionalLong.empty();
    for (Rule rule : matching) {
      if (rule.decision() != decision) {
        continue;
      }
      ids.add(rule.id());
      first = first == null ? rule : first;
      if (rule.maxRows().isPresent()
          && (maxRows.isEmpty() || rule.maxRows().getAsLong() < maxRows.getAsLong())) {
        maxRows = rule.maxRows();
      }
    }
    String reason =
        first
            .reason()
            .orElse(
                decision == Decision.ALLOW
                    ? ""
                    : "the statement "
                        + (decision == Decision.DENY ? "is denied" : "needs approval")
                        + " by rule "
                        + first.id());
    return new Verdict(decision, ids, reason, version, maxRows, first.approval());
  }

  /** The most severe verdict of several statements sent together. */
  public Verdict evaluateAll(StatementContext context, List<StatementAnalysis> statements) {
    Verdict worst = null;
    for (StatementAnalysis statement : statements) {
      Verdict verdict = evaluate(context, statement);
      if (worst == null || verdict.decision().isMoreSevereThan(worst.decision())) {
        worst = verdict;
      }
    }
    return worst != null
        ? worst
        : new Verdict(
            Decision.ALLOW, List.of(), "", version, OptionalLong.empty(), Optional.empty());
  }

  private Verdict defaultVerdict(StatementAnalysis statement) {
    if (statement.isUnparsed()) {
      return new Verdict(
          Decision.DENY,
          List.of(),
          "the statement was not understood by the policy engine: "
              + statement.unparsedReason().orElse("unknown reason"),
          version,
          OptionalLong.empty(),
          Optional.empty());
    }
    return new Verdict(
        defaultDecision,
        List.of(),
        defaultDecision == Decision.DENY ? "no policy rule allows this statement" : "",
        version,
        OptionalLong.empty(),
        Optional.empty());
  }
}
