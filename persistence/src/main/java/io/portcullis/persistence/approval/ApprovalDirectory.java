package io.portcullis.persistence.approval;

import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.RestartSettings;
import org.apache.pekko.stream.javadsl.RestartSource;
import org.apache.pekko.stream.javadsl.Sink;

/**
 * Every node's view of every approval, fed from the journal's approval events, for listing.
 * Approval entities answer for one approval; only this read side can say which are pending
 * cluster-wide. It trails the journal by up to {@code jdbc-read-journal.refresh-interval}.
 */
public final class ApprovalDirectory {

  private final ConcurrentHashMap<String, ApprovalState> approvals = new ConcurrentHashMap<>();
  private final AtomicReference<Offset> offset = new AtomicReference<>(Offset.noOffset());

  private ApprovalDirectory() {}

  public static ApprovalDirectory start(ActorSystem<?> system) {
    ApprovalDirectory directory = new ApprovalDirectory();
    JdbcReadJournal journal =
        PersistenceQuery.get(system)
            .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
    RestartSource.withBackoff(
            RestartSettings.create(Duration.ofSeconds(1), Duration.ofSeconds(30), 0.2),
            () -> journal.eventsByTag(Approval.TAG, directory.offset.get()))
        .runWith(Sink.foreach(directory::apply), system);
    return directory;
  }

  private void apply(EventEnvelope envelope) {
    if (envelope.event() instanceof ApprovalEvent event) {
      String entityId =
          envelope.persistenceId().substring(envelope.persistenceId().indexOf('|') + 1);
      approvals.compute(
          entityId, (id, state) -> (state == null ? ApprovalState.empty(id) : state).apply(event));
    }
    offset.set(envelope.offset());
  }

  /** Every request with that status (every request when empty), newest first. */
  public List<ApprovalView> list(Optional<ApprovalStatus> status, Instant now) {
    return approvals.values().stream()
        .flatMap(
            state ->
                state.rounds().stream()
                    .filter(round -> status.isEmpty() || round.status(now) == status.get())
                    .map(round -> ApprovalView.of(state.entityId(), round, now)))
        .sorted(Comparator.comparing(ApprovalView::requestedAt).reversed())
        .toList();
  }
}
