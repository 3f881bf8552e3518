package io.portcullis.node.policy;

import io.portcullis.persistence.audit.RecordedSession;
import io.portcullis.persistence.audit.RecordedSession.RecordedStatement;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import io.portcullis.policy.masking.ColumnRule;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.rules.Decision;
import io.portcullis.policy.rules.Policy;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * What a candidate policy would change of recorded traffic: statements whose decision would differ
 * (allow → review, review → deny, …), and statements whose tables would gain masking rules, grouped
 * by change, rule and identity, with a few statements of each as examples.
 */
public final class WhatIf {

  private static final int EXAMPLES = 3;

  /**
   * @param rules the rules behind the new decision (the recorded ones when it falls to the default)
   */
  public record DecisionChange(
      String from,
      String to,
      List<String> rules,
      String identity,
      long statements,
      List<String> examples) {}

  /**
   * @param rules the masking rules the candidate adds to these statements' tables
   */
  public record MaskingChange(
      List<String> rules, String identity, long statements, List<String> examples) {}

  public record Report(
      String candidate,
      long statements,
      long decisionsChanged,
      long maskingChanged,
      List<DecisionChange> decisions,
      List<MaskingChange> masking) {}

  private final Policy candidate;
  private final Map<List<String>, Group> decisions = new LinkedHashMap<>();
  private final Map<List<String>, Group> masking = new LinkedHashMap<>();
  private long statements;
  private long decisionsChanged;
  private long maskingChanged;

  public WhatIf(Policy candidate) {
    this.candidate = candidate;
  }

  public Policy candidate() {
    return candidate;
  }

  /**
   * Adds a session's statements.
   *
   * @param now their decisions under the candidate, in order
   * @param recorded the stored policy versions (null for one the journal lacks)
   */
  public void add(
      RecordedSession session, List<PolicyDecided> now, Function<String, Policy> recorded) {
    String identity = session.opened().subject();
    SessionMasking after = candidate.masking().forIdentity(session.identity());
    Map<String, SessionMasking> before = new HashMap<>();
    for (int i = 0; i < session.statements().size(); i++) {
      RecordedStatement statement = session.statements().get(i);
      if (session.boundLater(i).isPresent()) {
        // Its Bind, recorded later, is what ran or would run: counted once, there.
        continue;
      }
      PolicyDecided was = statement.decided();
      PolicyDecided will = now.get(i);
      statements++;
      if (was == null || will == null) {
        continue;
      }
      String sql = statement.received().sql();
      if (!was.decision().equals(will.decision())) {
        decisionsChanged++;
        List<String> rules = will.rules().isEmpty() ? was.rules() : will.rules();
        List<String> key = new ArrayList<>(List.of(was.decision(), will.decision(), identity));
        key.addAll(rules);
        decisions.computeIfAbsent(key, k -> new Group()).add(sql);
      }
      if (will.decision().equals(Decision.DENY.policyName())) {
        continue;
      }
      Policy old = recorded.apply(was.policyVersion());
      if (old == null) {
        continue;
      }
      SessionMasking earlier =
          before.computeIfAbsent(
              was.policyVersion(), v -> old.masking().forIdentity(session.identity()));
      TreeSet<String> added = new TreeSet<>();
      for (String table : will.tables()) {
        int dot = table.lastIndexOf('.');
        String schema = dot < 0 ? "public" : table.substring(0, dot);
        String name = table.substring(dot + 1);
        for (ColumnRule rule : after.rulesFor(schema, name)) {
          added.add(rule.id());
        }
        for (ColumnRule rule : earlier.rulesFor(schema, name)) {
          added.remove(rule.id());
        }
      }
      if (!added.isEmpty()) {
        maskingChanged++;
        List<String> key = new ArrayList<>(List.of(identity));
        key.addAll(added);
        masking.computeIfAbsent(key, k -> new Group()).add(sql);
      }
    }
  }

  public Report report() {
    List<DecisionChange> decisionChanges = new ArrayList<>();
    decisions.forEach(
        (key, group) ->
            decisionChanges.add(
                new DecisionChange(
                    key.get(0),
                    key.get(1),
                    key.subList(3, key.size()),
                    key.get(2),
                    group.count,
                    group.examples)));
    decisionChanges.sort(
        Comparator.comparing(DecisionChange::from)
            .thenComparing(DecisionChange::to)
            .thenComparing(change -> String.join(",", change.rules()))
            .thenComparing(DecisionChange::identity));
    List<MaskingChange> maskingChanges = new ArrayList<>();
    masking.forEach(
        (key, group) ->
            maskingChanges.add(
                new MaskingChange(
                    key.subList(1, key.size()), key.get(0), group.count, group.examples)));
    maskingChanges.sort(
        Comparator.comparing((MaskingChange change) -> String.join(",", change.rules()))
            .thenComparing(MaskingChange::identity));
    return new Report(
        candidate.version(),
        statements,
        decisionsChanged,
        maskingChanged,
        decisionChanges,
        maskingChanges);
  }

  private static final class Group {
    long count;
    final List<String> examples = new ArrayList<>();

    void add(String sql) {
      count++;
      if (examples.size() < EXAMPLES && !examples.contains(sql)) {
        examples.add(sql);
      }
    }
  }
}
