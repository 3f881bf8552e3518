package io.portcullis.policy.rules;

import java.time.Duration;
import java.util.Optional;
import java.util.Set;

/**
 * How a {@code review} rule's statements are approved.
 *
 * @param mode {@code wait}: the statement is held until approved; {@code retry}: it is refused at
 *     once, and runs once when re-sent after approval
 * @param timeout how long a request stays open before it expires
 * @param approvers groups whose members may approve; nobody approves their own request
 * @param required how many distinct approvers must approve
 * @param grant when set, an approval opens a window of this length for the identity and rule
 *     (just-in-time access) instead of approving one statement
 */
public record ApprovalTerms(
    Mode mode, Duration timeout, Set<String> approvers, int required, Optional<Duration> grant) {

  public enum Mode {
    WAIT,
    RETRY
  }

  public ApprovalTerms {
    approvers = Set.copyOf(approvers);
  }

  /** A duration as policy files write it: {@code 10m}, {@code 90s}, {@code 2h}, {@code 1d}. */
  public static String describe(Duration duration) {
    long seconds = duration.toSeconds();
    if (seconds % 86_400 == 0 && seconds > 0) {
      return seconds / 86_400 + "d";
    }
    if (seconds % 3_600 == 0 && seconds > 0) {
      return seconds / 3_600 + "h";
    }
    if (seconds % 60 == 0 && seconds > 0) {
      return seconds / 60 + "m";
    }
    return seconds + "s";
  }
}
