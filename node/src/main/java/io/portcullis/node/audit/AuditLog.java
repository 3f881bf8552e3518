package io.portcullis.node.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.portcullis.node.masking.ExemptionEvent;
import io.portcullis.node.policy.DecisionEvent;
import io.portcullis.persistence.approval.ApprovalView;
import io.portcullis.policy.identity.LoginEvent;
import io.portcullis.policy.rules.Decision;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes audit events as one JSON line each, until the audit journal stores them: login attempts on
 * {@code io.portcullis.audit.login} (never a password or token, only their fingerprint), and policy
 * decisions on {@code io.portcullis.audit.decision} (refusals at INFO, allowed statements at
 * DEBUG), new approval requests on {@code io.portcullis.audit.approval}, and sessions that see
 * protected values in clear on {@code io.portcullis.audit.masking}. Approval decisions are the
 * approval entities' own journal.
 */
public final class AuditLog {

  private static final Logger logins = LoggerFactory.getLogger("io.portcullis.audit.login");
  private static final Logger decisions = LoggerFactory.getLogger("io.portcullis.audit.decision");
  private static final Logger approvals = LoggerFactory.getLogger("io.portcullis.audit.approval");
  private static final Logger masking = LoggerFactory.getLogger("io.portcullis.audit.masking");
  private static final ObjectMapper json =
      JsonMapper.builder()
          .addModule(new Jdk8Module())
          .addModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
          .build();

  private AuditLog() {}

  public static void login(LoginEvent event) {
    write(logins, true, event);
  }

  /** Whether a decision of this kind is written at the current log level. */
  public static boolean recordsDecision(Decision decision) {
    return decision == Decision.ALLOW ? decisions.isDebugEnabled() : decisions.isInfoEnabled();
  }

  public static void decision(DecisionEvent event) {
    write(decisions, !event.decision().equals(Decision.ALLOW.policyName()), event);
  }

  public static void approvalRequested(ApprovalView approval) {
    write(approvals, true, approval);
  }

  public static void maskingExemption(ExemptionEvent event) {
    write(masking, true, event);
  }

  private static void write(Logger log, boolean info, Object event) {
    if (!(info ? log.isInfoEnabled() : log.isDebugEnabled())) {
      return;
    }
    String line;
    try {
      line = json.writeValueAsString(event);
    } catch (JsonProcessingException e) {
      log.error("cannot write audit event {}", event.getClass().getSimpleName(), e);
      return;
    }
    if (info) {
      log.info(line);
    } else {
      log.debug(line);
    }
  }
}
