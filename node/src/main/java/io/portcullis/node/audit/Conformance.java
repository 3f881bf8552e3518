package io.portcullis.node.audit;

import io.portcullis.persistence.audit.RecordedSession;
import io.portcullis.persistence.audit.RecordedSession.RecordedStatement;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import io.portcullis.policy.rules.Policy;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Whether what the journal says the gateway decided is what its policy decides: each statement's
 * decision and rule ids, judged again under the policy version recorded with it, and the session's
 * masking exemptions under the version in force at its start. A difference is a bug in the gateway
 * or an edited journal.
 */
public final class Conformance {

  /**
   * @param statement 0 for the session as a whole
   */
  public record Finding(String session, long statement, String sql, String problem) {}

  private Conformance() {}

  /**
   * @param policies the stored policy versions; null for a version the journal does not hold
   * @param decisions the statements' decisions judged again, in order (null where none resulted)
   */
  public static List<Finding> check(
      RecordedSession session, Function<String, Policy> policies, List<PolicyDecided> decisions) {
    List<Finding> findings = new ArrayList<>();
    String id = session.opened().session();
    Policy opening = policies.apply(session.opened().policyVersion());
    if (opening == null) {
      findings.add(
          new Finding(
              id,
              0,
              "",
              "the journal does not hold the text of policy " + session.opened().policyVersion()));
    } else {
      List<String> exemptions = opening.masking().forIdentity(session.identity()).exemptions();
      if (!exemptions.equals(session.opened().maskingExemptions())) {
        findings.add(
            new Finding(
                id,
                0,
                "",
                "masking exemptions recorded "
                    + session.opened().maskingExemptions()
                    + ", the policy gives "
                    + exemptions));
      }
    }
    for (int i = 0; i < session.statements().size(); i++) {
      RecordedStatement statement = session.statements().get(i);
      PolicyDecided recorded = statement.decided();
      PolicyDecided now = decisions.get(i);
      String sql = statement.received().sql();
      long number = statement.received().statement();
      if (recorded == null) {
        findings.add(new Finding(id, number, sql, "the journal holds no decision for it"));
      } else if (policies.apply(recorded.policyVersion()) == null) {
        findings.add(
            new Finding(
                id,
                number,
                sql,
                "the journal does not hold the text of policy " + recorded.policyVersion()));
      } else if (now == null) {
        findings.add(
            new Finding(
                id,
                number,
                sql,
                "recorded " + recorded.decision() + ", the policy decides nothing"));
      } else if (!recorded.decision().equals(now.decision())
          || !Objects.equals(recorded.rules(), now.rules())) {
        findings.add(
            new Finding(
                id,
                number,
                sql,
                "recorded "
                    + describe(recorded)
                    + ", policy "
                    + shortVersion(recorded.policyVersion())
                    + " decides "
                    + describe(now)));
      }
      ranAnyway(statement)
          .ifPresent(problem -> findings.add(new Finding(id, number, sql, problem)));
    }
    return findings;
  }

  /**
   * A statement the gateway refused by its decision or its approval that nevertheless returned a
   * result without error: the gateway did not enforce what it recorded, or the record was edited.
   */
  private static Optional<String> ranAnyway(RecordedStatement statement) {
    boolean succeeded = statement.completions().stream().anyMatch(c -> c.sqlState().isEmpty());
    if (!succeeded || statement.decided() == null) {
      return Optional.empty();
    }
    if (statement.decided().decision().equals("deny")) {
      return Optional.of("recorded deny, yet it returned a result without error: it ran");
    }
    return statement
        .approval()
        .filter(approval -> !approval.outcome().equals("approved"))
        .map(
            approval ->
                "its approval "
                    + approval.approvalId()
                    + " was "
                    + approval.outcome()
                    + ", yet it returned a result without error: it ran");
  }

  private static String describe(PolicyDecided decided) {
    return decided.decision()
        + (decided.rules().isEmpty() ? " (default)" : " by " + String.join(", ", decided.rules()));
  }

  private static String shortVersion(String version) {
    return version.substring(0, Math.min(version.length(), 19));
  }
}
