package io.portcullis.persistence.approval;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An approval's public id: {@code a-} and twelve hex digits name the entity (one identity's
 * requests for one statement); {@code -N} names its N-th request, when there was more than one.
 */
public record ApprovalId(String entityId, int round) {

  static final String PREFIX = "a-";
  private static final Pattern FORMAT =
      Pattern.compile("(a-[0-9a-f]{12})(?:-([2-9]|[1-9][0-9]{1,8}))?");

  public static Optional<ApprovalId> parse(String text) {
    Matcher matcher = FORMAT.matcher(text);
    if (!matcher.matches()) {
      return Optional.empty();
    }
    int round = matcher.group(2) == null ? 1 : Integer.parseInt(matcher.group(2));
    return Optional.of(new ApprovalId(matcher.group(1), round));
  }

  @Override
  public String toString() {
    return round == 1 ? entityId : entityId + "-" + round;
  }
}
