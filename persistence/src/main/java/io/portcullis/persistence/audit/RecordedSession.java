package io.portcullis.persistence.audit;

import io.portcullis.persistence.audit.SessionEvent.ApprovalResolved;
import io.portcullis.persistence.audit.SessionEvent.CopyDataReceived;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import io.portcullis.persistence.audit.SessionEvent.SessionClosed;
import io.portcullis.persistence.audit.SessionEvent.SessionOpened;
import io.portcullis.persistence.audit.SessionEvent.StatementCompleted;
import io.portcullis.persistence.audit.SessionEvent.StatementReceived;
import io.portcullis.policy.identity.Identity;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A session's events grouped by statement: what arrived, what the policy decided, how an approval
 * ended, the data the client sent for a COPY, and each result it returned (a simple query of
 * several statements has several).
 *
 * @param closed whether the journal holds the session's end
 */
public record RecordedSession(
    SessionOpened opened, List<RecordedStatement> statements, boolean closed) {

  public RecordedSession {
    statements = List.copyOf(statements);
  }

  /** Who the session was, as its login established. */
  public Identity identity() {
    return new Identity(
        opened.subject(), opened.issuer(), Set.copyOf(opened.groups()), opened.agent());
  }

  /**
   * @param decided null when the journal lost it
   */
  public record RecordedStatement(
      StatementReceived received,
      PolicyDecided decided,
      Optional<ApprovalResolved> approval,
      List<CopyDataReceived> copyData,
      List<StatementCompleted> completions) {

    public RecordedStatement {
      copyData = List.copyOf(copyData);
      completions = List.copyOf(completions);
    }

    /**
     * Whether it went upstream: allowed, or reviewed and then approved (or covered by a grant,
     * which records no approval of its own but a result).
     */
    public boolean ran() {
      if (decided == null) {
        return false;
      }
      return switch (decided.decision()) {
        case "allow" -> true;
        case "review" ->
            approval
                .map(resolved -> resolved.outcome().equals("approved"))
                .orElse(!completions.isEmpty());
        default -> false;
      };
    }
  }

  /**
   * For the record the gateway makes when a statement under a review rule is parsed over the
   * extended protocol (it is held for approval only when bound, with its values, and recorded again
   * then): the record of that Bind. Empty for any other record, and for a Parse never bound.
   */
  public Optional<RecordedStatement> boundLater(int index) {
    RecordedStatement parsed = statements.get(index);
    StatementReceived received = parsed.received();
    if (!received.protocol().equals("extended")
        || parsed.decided() == null
        || !parsed.decided().decision().equals("review")
        || parsed.approval().isPresent()
        || !parsed.completions().isEmpty()
        || !received.parameters().isEmpty()) {
      return Optional.empty();
    }
    // The Bind's record has the approval's outcome, or a result (a refusal): a Parse has neither.
    return statements.subList(index + 1, statements.size()).stream()
        .filter(
            later ->
                later.received().protocol().equals("extended")
                    && later.received().statementName().equals(received.statementName())
                    && later.received().sql().equals(received.sql())
                    && (later.approval().isPresent() || !later.completions().isEmpty()))
        .findFirst();
  }

  /** Groups events in journal order; empty when the first is not a SessionOpened. */
  public static Optional<RecordedSession> of(List<SessionEvent> events) {
    if (events.isEmpty() || !(events.get(0) instanceof SessionOpened opened)) {
      return Optional.empty();
    }
    Map<Long, StatementReceived> received = new LinkedHashMap<>();
    Map<Long, PolicyDecided> decided = new LinkedHashMap<>();
    Map<Long, ApprovalResolved> approvals = new LinkedHashMap<>();
    Map<Long, List<CopyDataReceived>> copyData = new LinkedHashMap<>();
    Map<Long, List<StatementCompleted>> completions = new LinkedHashMap<>();
    boolean closed = false;
    for (SessionEvent event : events) {
      if (event instanceof StatementReceived statement) {
        received.put(statement.statement(), statement);
      } else if (event instanceof PolicyDecided decision) {
        decided.put(decision.statement(), decision);
      } else if (event instanceof ApprovalResolved approval) {
        approvals.put(approval.statement(), approval);
      } else if (event instanceof CopyDataReceived data) {
        copyData.computeIfAbsent(data.statement(), n -> new ArrayList<>()).add(data);
      } else if (event instanceof StatementCompleted completed) {
        completions.computeIfAbsent(completed.statement(), n -> new ArrayList<>()).add(completed);
      } else if (event instanceof SessionClosed) {
        closed = true;
      }
    }
    List<RecordedStatement> statements = new ArrayList<>(received.size());
    for (StatementReceived statement : received.values()) {
      long number = statement.statement();
      statements.add(
          new RecordedStatement(
              statement,
              decided.get(number),
              Optional.ofNullable(approvals.get(number)),
              copyData.getOrDefault(number, List.of()),
              completions.getOrDefault(number, List.of())));
    }
    return Optional.of(new RecordedSession(opened, statements, closed));
  }
}
