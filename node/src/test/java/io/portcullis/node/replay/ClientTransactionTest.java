package io.portcullis.node.replay;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.replay.ClientTransaction.AsRecorded;
import io.portcullis.node.replay.ClientTransaction.Emulated;
import io.portcullis.node.replay.ClientTransaction.NotReplayable;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClientTransactionTest {

  private final ClientTransaction transaction = new ClientTransaction();

  @Test
  void aCommitOfAFailedTransactionRollsBack() {
    assertThat(sql("START TRANSACTION ISOLATION LEVEL SERIALIZABLE", "START TRANSACTION"))
        .contains("SAVEPOINT portcullis_client");
    assertThat(sql("COMMIT", "ROLLBACK"))
        .contains("ROLLBACK TO SAVEPOINT portcullis_client; RELEASE SAVEPOINT portcullis_client");
  }

  @Test
  void aBeginInsideATransactionAndACommitOutsideOneChangeNothing() {
    assertThat(sql("BEGIN", "BEGIN")).isPresent();
    assertThat(sql("begin work", "BEGIN")).isEmpty();
    assertThat(sql("END", "COMMIT")).contains("RELEASE SAVEPOINT portcullis_client");
    assertThat(sql("COMMIT", "COMMIT")).isEmpty();
    assertThat(sql("ABORT", "ROLLBACK")).isEmpty();
  }

  @Test
  void theClientsOwnSavepointsRunAsRecorded() {
    transaction.step("BEGIN", Optional.of("BEGIN"));

    assertThat(transaction.step("SAVEPOINT a", Optional.of("SAVEPOINT")))
        .isInstanceOf(AsRecorded.class);
    assertThat(transaction.step("ROLLBACK TO SAVEPOINT a", Optional.of("ROLLBACK")))
        .isInstanceOf(AsRecorded.class);
    assertThat(transaction.step("RELEASE a", Optional.of("RELEASE")))
        .isInstanceOf(AsRecorded.class);
    assertThat(sql("ROLLBACK", "ROLLBACK"))
        .contains("ROLLBACK TO SAVEPOINT portcullis_client; RELEASE SAVEPOINT portcullis_client");
  }

  @Test
  void whatCannotRunInsideTheReplaysTransactionIsNotReplayable() {
    assertThat(transaction.step("BEGIN; INSERT INTO t VALUES (1); COMMIT", Optional.empty()))
        .isInstanceOf(NotReplayable.class);
    assertThat(transaction.step("PREPARE TRANSACTION 'x'", Optional.empty()))
        .isInstanceOf(NotReplayable.class);
    assertThat(transaction.step("COMMIT PREPARED 'x'", Optional.empty()))
        .isInstanceOf(NotReplayable.class);
    assertThat(transaction.step("COMMIT AND CHAIN", Optional.empty()))
        .isInstanceOf(NotReplayable.class);
    assertThat(transaction.step("COMMIT AND NO CHAIN", Optional.empty()))
        .isInstanceOf(Emulated.class);
  }

  private Optional<String> sql(String statement, String recordedTag) {
    return ((Emulated) transaction.step(statement, Optional.of(recordedTag))).sql();
  }
}
