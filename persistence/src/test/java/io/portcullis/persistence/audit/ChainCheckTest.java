package io.portcullis.persistence.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.persistence.audit.ChainCheck.Stored;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChainCheckTest {

  /** A whole session of six events, chained as the entity chains them. */
  static List<Stored<SessionEvent>> session() {
    List<SessionEvent> events = new ArrayList<>();
    events.add(TestEvents.opened("s-1"));
    events.addAll(TestEvents.statement(1));
    events.addAll(TestEvents.statement(2).subList(0, 2));
    List<Stored<SessionEvent>> stored = new ArrayList<>();
    String head = SessionChain.GENESIS;
    for (SessionEvent event : events) {
      SessionEvent linked = event.chainedAfter(head);
      stored.add(new Stored<>(stored.size() + 1, linked));
      head = SessionChain.hash(linked);
    }
    return stored;
  }

  @Test
  void aWholeChainHasNoBreak() {
    assertThat(ChainCheck.check("s-1", session())).isEmpty();
  }

  @Test
  void anEditedEventIsFoundAtTheEventAfterIt() {
    List<Stored<SessionEvent>> events = session();
    SessionEvent.PolicyDecided decided = (SessionEvent.PolicyDecided) events.get(2).event();
    events.set(
        2,
        new Stored<>(
            3,
            new SessionEvent.PolicyDecided(
                decided.schema(),
                decided.at(),
                decided.statement(),
                "deny",
                decided.rules(),
                decided.policyVersion(),
                decided.reason(),
                decided.tables(),
                decided.approvalId(),
                decided.previousHash())));
    assertThat(ChainCheck.check("s-1", events))
        .singleElement()
        .satisfies(b -> assertThat(b.sequenceNumber()).isEqualTo(4));
  }

  @Test
  void aDeletedEventLeavesAGap() {
    List<Stored<SessionEvent>> events = session();
    events.remove(3);
    assertThat(ChainCheck.check("s-1", events))
        .extracting(ChainCheck.Break::toString)
        .anySatisfy(text -> assertThat(text).contains("event 4", "deleted"));
  }

  @Test
  void swappedEventsBreakTheLinks() {
    List<Stored<SessionEvent>> events = session();
    Stored<SessionEvent> third = events.get(2);
    Stored<SessionEvent> fourth = events.get(3);
    events.set(2, new Stored<>(3, fourth.event()));
    events.set(3, new Stored<>(4, third.event()));
    assertThat(ChainCheck.check("s-1", events)).isNotEmpty();
  }

  @Test
  void aSessionWithoutItsStartIsFound() {
    List<Stored<SessionEvent>> events = session();
    events.remove(0);
    assertThat(ChainCheck.check("s-1", events))
        .extracting(ChainCheck.Break::problem)
        .anySatisfy(text -> assertThat(text).contains("SessionOpened"));
  }
}
