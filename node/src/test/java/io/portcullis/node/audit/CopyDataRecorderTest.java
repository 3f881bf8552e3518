package io.portcullis.node.audit;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.CopyDataReceived;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CopyDataRecorderTest {

  private static final byte[] KEY = "0123456789abcdef0123456789abcdef".getBytes(UTF_8);
  private final ClientDataSeal seal = ClientDataSeal.withKey(KEY);
  private final CopyDataRecorder recorder = new CopyDataRecorder("s-1", seal);

  @Test
  void dataIsHeldUntilAChunkIsFullOrTheCopyEnds() throws Exception {
    byte[] half = new byte[CopyDataRecorder.CHUNK_BYTES / 2];

    assertThat(recorder.data(3, half)).isEmpty();
    List<SessionEvent> full = recorder.data(3, new byte[CopyDataRecorder.CHUNK_BYTES / 2 + 10]);
    List<SessionEvent> end = recorder.end(3, CopyDataReceived.DONE);

    assertThat(chunks(full))
        .extracting(CopyDataReceived::bytes)
        .containsExactly(CopyDataRecorder.CHUNK_BYTES + 10L);
    assertThat(chunks(end))
        .singleElement()
        .satisfies(
            last -> {
              assertThat(last.chunk()).isEqualTo(2);
              assertThat(last.bytes()).isZero();
              assertThat(last.end()).contains(CopyDataReceived.DONE);
            });
    CopyDataReceived first = chunks(full).get(0);
    assertThat(seal.openCopyData("s-1", 3, 1, first.sealedData().orElseThrow()))
        .hasSize(CopyDataRecorder.CHUNK_BYTES + 10);
  }

  @Test
  void aStatementOfTwoCopiesEndsEachAndNumbersItsChunksOnward() {
    List<SessionEvent> events = new ArrayList<>();
    events.addAll(recorder.data(5, "1\ta\n".getBytes(UTF_8)));
    events.addAll(recorder.end(5, CopyDataReceived.DONE));
    events.addAll(recorder.data(5, "2\tb\n".getBytes(UTF_8)));
    events.addAll(recorder.end(5, CopyDataReceived.FAILED));

    assertThat(chunks(events))
        .extracting(CopyDataReceived::chunk, CopyDataReceived::bytes, CopyDataReceived::end)
        .containsExactly(
            tuple(1, 4L, Optional.of(CopyDataReceived.DONE)),
            tuple(2, 4L, Optional.of(CopyDataReceived.FAILED)));
  }

  @Test
  void aCopyAbandonedIsNotRecordedUpToItsEndAndTheNextOneIs() {
    recorder.data(7, "1\ta\n".getBytes(UTF_8));
    recorder.abandon();

    assertThat(recorder.data(7, new byte[CopyDataRecorder.CHUNK_BYTES])).isEmpty();
    assertThat(recorder.end(7, CopyDataReceived.DONE)).isEmpty();
    assertThat(chunks(recorder.end(7, CopyDataReceived.DONE))).hasSize(1);
  }

  @Test
  void dataLeftByACopyThatNeverEndedIsRecordedUnderItsOwnStatement() {
    recorder.data(8, "1\ta\n".getBytes(UTF_8));
    List<SessionEvent> events = recorder.data(9, "2\tb\n".getBytes(UTF_8));

    assertThat(chunks(events))
        .singleElement()
        .satisfies(
            left -> {
              assertThat(left.statement()).isEqualTo(8);
              assertThat(left.end()).isEmpty();
            });
    assertThat(chunks(recorder.end(9, CopyDataReceived.DONE)))
        .singleElement()
        .satisfies(
            last -> {
              assertThat(last.statement()).isEqualTo(9);
              assertThat(last.chunk()).isEqualTo(1);
            });
  }

  @Test
  void withoutASealingKeyOnlyTheSizeIsRecorded() {
    CopyDataRecorder unsealed = new CopyDataRecorder("s-1", ClientDataSeal.none());
    unsealed.data(2, "1\ta\n".getBytes(UTF_8));

    assertThat(chunks(unsealed.end(2, CopyDataReceived.DONE)))
        .singleElement()
        .satisfies(
            last -> {
              assertThat(last.bytes()).isEqualTo(4);
              assertThat(last.sealedData()).isEmpty();
            });
  }

  private static List<CopyDataReceived> chunks(List<SessionEvent> events) {
    return events.stream().map(CopyDataReceived.class::cast).toList();
  }
}
