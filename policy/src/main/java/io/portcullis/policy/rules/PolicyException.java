package io.portcullis.policy.rules;

import java.util.List;
import java.util.stream.Collectors;

/** A policy file that cannot be used, with every problem found in it. */
public final class PolicyException extends Exception {

  /** One problem, located as editors and CI annotations expect: {@code file:line:column}. */
  public record Problem(String file, int line, int column, String message) {
    @Override
    public String toString() {
      return file + ":" + line + ":" + column + ": " + message;
    }
  }

  private final List<Problem> problems;

  public PolicyException(List<Problem> problems) {
    super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")));
    this.problems = List.copyOf(problems);
  }

  public List<Problem> problems() {
    return problems;
  }
}
