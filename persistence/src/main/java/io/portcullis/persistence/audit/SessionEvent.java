package io.portcullis.persistence.audit;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * What the journal records of one session, in order. Every event carries the schema version it was
 * written with and the hash of the session's previous event ({@link SessionChain}), so that a
 * changed, missing, inserted or reordered event breaks the chain. Values that could hold personal
 * data are recorded only as the client saw them: masked.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "type")
@JsonSubTypes({
  @JsonSubTypes.Type(value = SessionEvent.SessionOpened.class, name = "SessionOpened"),
  @JsonSubTypes.Type(value = SessionEvent.StatementReceived.class, name = "StatementReceived"),
  @JsonSubTypes.Type(value = SessionEvent.PolicyDecided.class, name = "PolicyDecided"),
  @JsonSubTypes.Type(value = SessionEvent.ApprovalResolved.class, name = "ApprovalResolved"),
  @JsonSubTypes.Type(value = SessionEvent.CopyDataReceived.class, name = "CopyDataReceived"),
  @JsonSubTypes.Type(value = SessionEvent.StatementCompleted.class, name = "StatementCompleted"),
  @JsonSubTypes.Type(value = SessionEvent.SessionClosed.class, name = "SessionClosed")
})
public sealed interface SessionEvent extends ChainedEvent
    permits SessionEvent.SessionOpened,
        SessionEvent.StatementReceived,
        SessionEvent.PolicyDecided,
        SessionEvent.ApprovalResolved,
        SessionEvent.CopyDataReceived,
        SessionEvent.StatementCompleted,
        SessionEvent.SessionClosed {

  /** The event schema written by this version of Portcullis. */
  int SCHEMA_VERSION = 1;

  Instant at();

  /** The same event, chained after {@code hash}. */
  SessionEvent chainedAfter(String hash);

  /**
   * A client logged in and its upstream connection is open.
   *
   * @param maskingExemptions masking rules whose values this identity sees in clear
   */
  record SessionOpened(
      int schema,
      Instant at,
      String session,
      String node,
      String subject,
      String issuer,
      List<String> groups,
      boolean agent,
      String clientAddress,
      int clientPort,
      String applicationName,
      Optional<String> tlsVersion,
      Optional<String> tlsCipher,
      String target,
      String upstreamRole,
      String policyVersion,
      List<String> maskingExemptions,
      String previousHash)
      implements SessionEvent {
    public SessionOpened {
      groups = List.copyOf(groups);
      maskingExemptions = List.copyOf(maskingExemptions);
    }

    @Override
    public SessionOpened chainedAfter(String hash) {
      return new SessionOpened(
          schema,
          at,
          session,
          node,
          subject,
          issuer,
          groups,
          agent,
          clientAddress,
          clientPort,
          applicationName,
          tlsVersion,
          tlsCipher,
          target,
          upstreamRole,
          policyVersion,
          maskingExemptions,
          hash);
    }
  }

  /**
   * A statement arrived, before it may run.
   *
   * @param statement the statement's number in the session, from 1
   * @param protocol {@code simple}, {@code extended} (at Parse, or at Bind with its values) or
   *     {@code function-call}
   * @param parameters bound values as text, masked; empty for a simple query
   * @param sealedParameters the values as the client sent them, sealed for replay ({@code
   *     SealedValues}); empty when there are none or no sealing key is configured
   */
  record StatementReceived(
      int schema,
      Instant at,
      long statement,
      String sql,
      String protocol,
      String statementName,
      String portalName,
      List<String> parameters,
      Optional<String> sealedParameters,
      String previousHash)
      implements SessionEvent {
    public StatementReceived {
      parameters = List.copyOf(parameters);
    }

    @Override
    public StatementReceived chainedAfter(String hash) {
      return new StatementReceived(
          schema,
          at,
          statement,
          sql,
          protocol,
          statementName,
          portalName,
          parameters,
          sealedParameters,
          hash);
    }
  }

  /**
   * What the policy decided about a statement.
   *
   * @param decision {@code allow}, {@code deny} or {@code review}
   * @param tables the relations the statement reads or writes, as the policy resolved them
   * @param approvalId for a reviewed statement, its approval
   */
  record PolicyDecided(
      int schema,
      Instant at,
      long statement,
      String decision,
      List<String> rules,
      String policyVersion,
      String reason,
      List<String> tables,
      Optional<String> approvalId,
      String previousHash)
      implements SessionEvent {
    public PolicyDecided {
      rules = List.copyOf(rules);
      tables = List.copyOf(tables);
    }

    @Override
    public PolicyDecided chainedAfter(String hash) {
      return new PolicyDecided(
          schema, at, statement, decision, rules, policyVersion, reason, tables, approvalId, hash);
    }
  }

  /**
   * A reviewed statement's approval was decided, before the statement ran or was refused.
   *
   * @param outcome {@code approved}, {@code denied} or {@code expired}
   * @param approvers who approved or denied it
   * @param reason the approver's reason for a denial, or why it expired
   */
  record ApprovalResolved(
      int schema,
      Instant at,
      long statement,
      String approvalId,
      String outcome,
      List<Approver> approvers,
      String reason,
      String previousHash)
      implements SessionEvent {
    public ApprovalResolved {
      approvers = List.copyOf(approvers);
    }

    @Override
    public ApprovalResolved chainedAfter(String hash) {
      return new ApprovalResolved(
          schema, at, statement, approvalId, outcome, approvers, reason, hash);
    }
  }

  /** A person (or agent) who decided an approval, as their token named them. */
  record Approver(String subject, String issuer) {}

  /**
   * Data a client sent for a statement's {@code COPY ... FROM STDIN}, a chunk at a time: its size,
   * and the bytes sealed for replay. A copy's last chunk says how the client ended it; a statement
   * of several COPYs has a last chunk for each.
   *
   * @param chunk the chunk's number within the statement, from 1
   * @param sealedData the bytes as the client sent them, sealed ({@link ClientDataSeal}); empty
   *     without a sealing key
   * @param end on a copy's last chunk, {@code done} (the client's CopyDone) or {@code failed} (its
   *     CopyFail); empty on the chunks before
   */
  record CopyDataReceived(
      int schema,
      Instant at,
      long statement,
      int chunk,
      long bytes,
      Optional<String> sealedData,
      Optional<String> end,
      String previousHash)
      implements SessionEvent {
    public static final String DONE = "done";
    public static final String FAILED = "failed";

    @Override
    public CopyDataReceived chainedAfter(String hash) {
      return new CopyDataReceived(schema, at, statement, chunk, bytes, sealedData, end, hash);
    }
  }

  /**
   * What a statement returned, as the client saw it (masked).
   *
   * @param commandTag the upstream's tag, or empty when it failed
   * @param rows rows returned or affected
   * @param sqlState the error's SQLSTATE when it failed
   * @param sample the first rows of the result, masked, each value as text (null for SQL NULL)
   * @param sampleComplete whether the sample holds the whole result
   * @param resultDigest hex SHA-256 over every masked row the client received, in order
   */
  record StatementCompleted(
      int schema,
      Instant at,
      long statement,
      Optional<String> commandTag,
      long rows,
      long durationMicros,
      Optional<String> sqlState,
      List<List<String>> sample,
      boolean sampleComplete,
      String resultDigest,
      String previousHash)
      implements SessionEvent {
    public StatementCompleted {
      sample = List.copyOf(sample);
    }

    @Override
    public StatementCompleted chainedAfter(String hash) {
      return new StatementCompleted(
          schema,
          at,
          statement,
          commandTag,
          rows,
          durationMicros,
          sqlState,
          sample,
          sampleComplete,
          resultDigest,
          hash);
    }
  }

  /** The session ended: {@code reason} says how (the client's Terminate, a lost connection, …). */
  record SessionClosed(int schema, Instant at, String reason, String previousHash)
      implements SessionEvent {
    @Override
    public SessionClosed chainedAfter(String hash) {
      return new SessionClosed(schema, at, reason, hash);
    }
  }
}
