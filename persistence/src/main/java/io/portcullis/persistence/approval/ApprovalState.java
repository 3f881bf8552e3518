package io.portcullis.persistence.approval;

import io.portcullis.persistence.CborSerializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Every request made of one approval entity, the latest last. */
public record ApprovalState(String entityId, List<ApprovalRound> rounds)
    implements CborSerializable {

  public ApprovalState {
    rounds = List.copyOf(rounds);
  }

  public static ApprovalState empty(String entityId) {
    return new ApprovalState(entityId, List.of());
  }

  public Optional<ApprovalRound> latest() {
    return rounds.isEmpty() ? Optional.empty() : Optional.of(rounds.get(rounds.size() - 1));
  }

  public Optional<ApprovalRound> round(int number) {
    return number >= 1 && number <= rounds.size()
        ? Optional.of(rounds.get(number - 1))
        : Optional.empty();
  }

  public ApprovalState apply(ApprovalEvent event) {
    if (event instanceof ApprovalEvent.Requested requested) {
      List<ApprovalRound> all = new ArrayList<>(rounds);
      all.add(
          ApprovalRound.requested(
              requested.round(), requested.request(), requested.at(), requested.expiresAt()));
      return new ApprovalState(entityId, all);
    }
    ApprovalRound round = rounds.get(event.round() - 1);
    ApprovalRound changed;
    if (event instanceof ApprovalEvent.Approved approved) {
      changed =
          round.decided(
              new ApprovalRound.Decision(
                  approved.approver(), true, approved.reason(), approved.at()));
    } else if (event instanceof ApprovalEvent.Denied denied) {
      changed =
          round.decided(
              new ApprovalRound.Decision(denied.approver(), false, denied.reason(), denied.at()));
    } else if (event instanceof ApprovalEvent.Expired expired) {
      changed = round.expired(expired.at());
    } else {
      ApprovalEvent.Executed executed = (ApprovalEvent.Executed) event;
      changed = round.executed(executed.sessionId(), executed.at());
    }
    List<ApprovalRound> all = new ArrayList<>(rounds);
    all.set(event.round() - 1, changed);
    return new ApprovalState(entityId, all);
  }
}
