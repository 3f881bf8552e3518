package io.portcullis.policy.masking;

import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A content detector from the policy's {@code masking.detectors}.
 *
 * @param pattern for {@link DetectorKind#PATTERN} only
 * @param exemptGroups identities in one of these groups see the values in clear
 */
public record DetectorRule(
    String id,
    DetectorKind kind,
    Optional<Pattern> pattern,
    MaskStrategy strategy,
    Set<String> exemptGroups) {

  public DetectorRule {
    exemptGroups = Set.copyOf(exemptGroups);
    if ((kind == DetectorKind.PATTERN) != pattern.isPresent()) {
      throw new IllegalArgumentException("a pattern belongs to, and only to, a pattern detector");
    }
  }
}
