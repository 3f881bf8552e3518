package io.portcullis.policy.masking;

import io.portcullis.policy.identity.Identity;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;

/** The policy's {@code masking} section: which columns are protected and which detectors run. */
public record MaskingPolicy(List<ColumnRule> columns, List<DetectorRule> detectors) {

  public static final MaskingPolicy NONE = new MaskingPolicy(List.of(), List.of());

  public MaskingPolicy {
    columns = List.copyOf(columns);
    detectors = List.copyOf(detectors);
  }

  /** The rules that apply to this identity; the ones it is exempt from are named. */
  public SessionMasking forIdentity(Identity identity) {
    List<ColumnRule> applying = new ArrayList<>();
    List<DetectorRule> scanning = new ArrayList<>();
    List<String> exempt = new ArrayList<>();
    for (ColumnRule rule : columns) {
      if (Collections.disjoint(rule.exemptGroups(), identity.groups())) {
        applying.add(rule);
      } else {
        exempt.add(rule.id());
      }
    }
    for (DetectorRule rule : detectors) {
      if (Collections.disjoint(rule.exemptGroups(), identity.groups())) {
        scanning.add(rule);
      } else {
        exempt.add(rule.id());
      }
    }
    return new SessionMasking(applying, scanning, exempt);
  }

  /**
   * What masking means for one session.
   *
   * @param exemptions ids of the rules the session's identity is exempt from
   */
  public record SessionMasking(
      List<ColumnRule> columns, List<DetectorRule> detectors, List<String> exemptions) {

    public SessionMasking {
      columns = List.copyOf(columns);
      detectors = List.copyOf(detectors);
      exemptions = List.copyOf(exemptions);
    }

    public boolean isEmpty() {
      return columns.isEmpty() && detectors.isEmpty();
    }

    /** The first rule protecting this column, or null. */
    public ColumnRule ruleFor(String schema, String table, String column) {
      for (ColumnRule rule : columns) {
        if (rule.protects(schema, table, column)) {
          return rule;
        }
      }
      return null;
    }

    /** The rules protecting some column of this table. */
    public List<ColumnRule> rulesFor(String schema, String table) {
      List<ColumnRule> rules = new ArrayList<>();
      for (ColumnRule rule : columns) {
        if (rule.protectsSomeColumnOf(schema, table)) {
          rules.add(rule);
        }
      }
      return rules;
    }

    /** Groups of this identity that may not use protected columns in predicates. */
    public boolean deniesPredicates(ColumnRule rule, Set<String> groups) {
      return !Collections.disjoint(rule.denyPredicatesFor(), groups);
    }
  }
}
