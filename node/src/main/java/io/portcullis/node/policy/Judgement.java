package io.portcullis.node.policy;

import io.portcullis.persistence.approval.ApprovalRequest;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.FrontendMessage;
import java.util.Optional;

/** What the policy stage does with one client message. */
public sealed interface Judgement {

  /**
   * Send it upstream as it is. A Query, or a Bind of an allowed prepared statement, carries the
   * {@code max-rows} of the rules that allowed it: each result is cut at that many rows.
   */
  record Forward(Optional<RowLimits.Limit> rowLimit) implements Judgement {

    private static final Forward UNLIMITED = new Forward(Optional.empty());

    public static Forward unlimited() {
      return UNLIMITED;
    }
  }

  /**
   * A simple query that can change nothing: it is sent upstream while its journal entries are being
   * written, and its result reaches the client only once they are durable (or, if they cannot be
   * written, is replaced by the journal's error). Its results are cut as {@link Forward}'s.
   */
  record ForwardRead(Optional<RowLimits.Limit> rowLimit) implements Judgement {}

  /**
   * Send {@code replacement} upstream instead: a statement that fails to parse, so that PostgreSQL
   * itself fails it exactly as it would fail a refused statement (aborting a transaction block,
   * skipping the rest of an extended-protocol batch until Sync, never creating a named statement)
   * and nothing of the original runs. Its error is replaced by {@code error} on the way back.
   */
  record Refuse(FrontendMessage replacement, ErrorResponse error) implements Judgement {}

  /**
   * Send it only once approvers agree to {@code request}; otherwise send {@code replacement}, as
   * for a refusal. Until then the session's later messages wait behind it.
   */
  record Hold(ApprovalRequest request, FrontendMessage replacement) implements Judgement {}
}
