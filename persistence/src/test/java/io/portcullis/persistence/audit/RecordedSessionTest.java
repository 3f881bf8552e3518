package io.portcullis.persistence.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.persistence.audit.SessionEvent.ApprovalResolved;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import io.portcullis.persistence.audit.SessionEvent.StatementReceived;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RecordedSessionTest {

  private static final Instant AT = Instant.parse("2026-11-26T09:30:00Z");
  private static final String DELETE = "DELETE FROM bank.customers WHERE id = $1";

  @Test
  void theParseOfAStatementHeldAtItsBindPointsToTheBindThatRan() {
    List<SessionEvent> events = new ArrayList<>(List.of(TestEvents.opened("s-1")));
    events.addAll(received(1, List.of()));
    events.addAll(received(2, List.of("7")));
    events.add(
        new ApprovalResolved(
            SessionEvent.SCHEMA_VERSION, AT, 2, "a-1", "approved", List.of(), "", null));
    events.addAll(received(3, List.of()));
    RecordedSession session = RecordedSession.of(events).orElseThrow();

    assertThat(session.boundLater(0))
        .map(bound -> bound.received().statement())
        .as("the Parse's record points to its Bind, not to the next Parse")
        .contains(2L);
    assertThat(session.boundLater(1)).as("the Bind itself").isEmpty();
    assertThat(session.boundLater(2)).as("a Parse never bound").isEmpty();
  }

  /** A statement under a review rule, over the extended protocol, as the gateway records it. */
  private static List<SessionEvent> received(long number, List<String> values) {
    return List.of(
        new StatementReceived(
            SessionEvent.SCHEMA_VERSION,
            AT,
            number,
            DELETE,
            "extended",
            "S_1",
            "",
            values,
            Optional.empty(),
            null),
        new PolicyDecided(
            SessionEvent.SCHEMA_VERSION,
            AT,
            number,
            "review",
            List.of("deletes-reviewed"),
            "sha256:abc",
            "deletes need an analyst",
            List.of("bank.customers"),
            Optional.empty(),
            null));
  }
}
