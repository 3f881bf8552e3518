package io.portcullis.node.masking;

import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.rules.Policy;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * The masking rules for one identity under the policy in force: the same instance until the policy
 * changes, so a session sees a reload at its next message. Exemptions are reported when they first
 * apply and whenever a new policy changes them.
 */
public final class IdentityMasking implements Supplier<SessionMasking> {

  private final Supplier<Policy> policy;
  private final Identity identity;
  private final BiConsumer<Policy, List<String>> exemptions;
  private Policy seen;
  private SessionMasking rules;

  /**
   * @param exemptions told the policy and the rules the identity is exempt from, when non-empty
   */
  public IdentityMasking(
      Supplier<Policy> policy, Identity identity, BiConsumer<Policy, List<String>> exemptions) {
    this.policy = policy;
    this.identity = identity;
    this.exemptions = exemptions;
  }

  @Override
  public SessionMasking get() {
    Policy now = policy.get();
    if (now != seen) {
      seen = now;
      List<String> before = rules == null ? List.of() : rules.exemptions();
      rules = now.masking().forIdentity(identity);
      if (!rules.exemptions().isEmpty() && !rules.exemptions().equals(before)) {
        exemptions.accept(now, rules.exemptions());
      }
    }
    return rules;
  }
}
