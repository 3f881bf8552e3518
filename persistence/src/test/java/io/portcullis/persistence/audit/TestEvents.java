package io.portcullis.persistence.audit;

import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import io.portcullis.persistence.audit.SessionEvent.SessionClosed;
import io.portcullis.persistence.audit.SessionEvent.SessionOpened;
import io.portcullis.persistence.audit.SessionEvent.StatementCompleted;
import io.portcullis.persistence.audit.SessionEvent.StatementReceived;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** Session events as a gateway appends them, for the journal's tests and benchmarks. */
public final class TestEvents {

  private static final Instant AT = Instant.parse("2026-11-26T09:30:00.123456789Z");

  private TestEvents() {}

  public static SessionOpened opened(String session) {
    return new SessionOpened(
        SessionEvent.SCHEMA_VERSION,
        AT,
        session,
        "node-1",
        "recon-bot",
        "https://idp",
        List.of("agents"),
        true,
        "10.1.2.3",
        51234,
        "recon",
        Optional.of("TLSv1.3"),
        Optional.of("TLS_AES_256_GCM_SHA384"),
        "main",
        "portcullis_agents",
        "sha256:abc",
        List.of(),
        null);
  }

  /** The three events of one statement: received, decided, completed. */
  public static List<SessionEvent> statement(long number) {
    return List.of(
        new StatementReceived(
            SessionEvent.SCHEMA_VERSION,
            AT,
            number,
            "SELECT ssn FROM bank.customers WHERE id = $1",
            "extended",
            "S_1",
            "",
            List.of("42"),
            Optional.of("aesgcm1.0011223344556677.c2VhbGVk"),
            null),
        new PolicyDecided(
            SessionEvent.SCHEMA_VERSION,
            AT,
            number,
            "allow",
            List.of("agents-read"),
            "sha256:abc",
            "",
            List.of("bank.customers"),
            Optional.empty(),
            null),
        new StatementCompleted(
            SessionEvent.SCHEMA_VERSION,
            AT,
            number,
            Optional.of("SELECT 1"),
            1,
            840,
            Optional.empty(),
            List.of(Arrays.asList("*******6789", null)),
            true,
            "ab12",
            null));
  }

  public static SessionClosed closed() {
    return new SessionClosed(SessionEvent.SCHEMA_VERSION, AT, "terminate", null);
  }
}
