package io.portcullis.node.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.policy.RowLimits.Decision;
import io.portcullis.node.policy.RowLimits.Drop;
import io.portcullis.node.policy.RowLimits.Limit;
import io.portcullis.node.policy.RowLimits.Pass;
import io.portcullis.node.policy.RowLimits.Replace;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.CommandComplete;
import io.portcullis.protocol.BackendMessage.CopyOutResponse;
import io.portcullis.protocol.BackendMessage.DataRow;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.BackendMessage.NoticeResponse;
import io.portcullis.protocol.BackendMessage.PortalSuspended;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.FrontendMessage.Bind;
import io.portcullis.protocol.FrontendMessage.Close;
import io.portcullis.protocol.FrontendMessage.Execute;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.WireMessage.CopyData;
import io.portcullis.protocol.WireMessage.CopyDone;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Row limits message by message: which rows go, which are dropped, what the client is told. */
class RowLimitsTest {

  private static final Optional<Limit> THREE = Optional.of(new Limit(3, List.of("capped")));
  private static final DataRow ROW = new DataRow(new byte[][] {{'1'}});

  private final RowLimits limits = new RowLimits();
  private long syncPoints;

  /** Sends messages as PolicyStage does, counting sync points. */
  private void send(Optional<Limit> limit, FrontendMessage... messages) {
    for (FrontendMessage message : messages) {
      limits.sent(message, limit, syncPoints);
      if (message instanceof Query || message == FrontendMessage.Sync.INSTANCE) {
        syncPoints++;
      }
    }
  }

  /** What the client receives for these upstream messages. */
  private List<BackendMessage> receive(BackendMessage... messages) {
    List<BackendMessage> received = new ArrayList<>();
    for (BackendMessage message : messages) {
      Decision decision = limits.response(message);
      if (decision instanceof Replace replace) {
        received.addAll(replace.messages());
      } else if (decision == Pass.INSTANCE) {
        received.add(message);
      } else {
        assertThat(decision).isEqualTo(Drop.INSTANCE);
      }
    }
    return received;
  }

  private static BackendMessage[] rows(int n, BackendMessage... after) {
    List<BackendMessage> messages = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      messages.add(ROW);
    }
    messages.addAll(List.of(after));
    return messages.toArray(new BackendMessage[0]);
  }

  private static NoticeResponse warning(String message) {
    return NoticeResponse.of("WARNING", "01000", message);
  }

  private static Bind bind(String portal) {
    return new Bind(portal, "", new short[0], new byte[0][], new short[0]);
  }

  private static long count(List<BackendMessage> messages, BackendMessage message) {
    return messages.stream().filter(message::equals).count();
  }

  @Test
  void aQueryKeepsItsFirstRowsAndIsToldHowManyWereNotSent() {
    send(THREE, new Query("SELECT …"));
    List<BackendMessage> received =
        receive(rows(5, new CommandComplete("SELECT 5"), ReadyForQuery.IDLE));
    assertThat(count(received, ROW)).isEqualTo(3);
    assertThat(received)
        .endsWith(
            warning(
                "result truncated to 3 rows by policy rule capped (max-rows); 2 more rows were not"
                    + " sent"),
            new CommandComplete("SELECT 3"),
            ReadyForQuery.IDLE);
  }

  @Test
  void aResultWithinTheLimitIsUntouched() {
    send(THREE, new Query("SELECT …"));
    BackendMessage[] upstream = rows(3, new CommandComplete("SELECT 3"), ReadyForQuery.IDLE);
    assertThat(receive(upstream)).containsExactly(upstream);
  }

  @Test
  void eachResultSetOfAQueryHasTheLimit() {
    send(THREE, new Query("SELECT …; SELECT …"));
    List<BackendMessage> first = receive(rows(6, new CommandComplete("SELECT 6")));
    List<BackendMessage> second =
        receive(rows(4, new CommandComplete("SELECT 4"), ReadyForQuery.IDLE));
    assertThat(count(first, ROW)).isEqualTo(3);
    assertThat(first).endsWith(new CommandComplete("SELECT 3"));
    assertThat(count(second, ROW)).isEqualTo(3);
    assertThat(second).endsWith(new CommandComplete("SELECT 3"), ReadyForQuery.IDLE);
  }

  @Test
  void aPortalIsCountedAcrossItsExecutesAndToldOnce() {
    send(THREE, bind("c1"));
    send(Optional.empty(), new Execute("c1", 2), FrontendMessage.Sync.INSTANCE);
    assertThat(receive(rows(2, PortalSuspended.INSTANCE, ReadyForQuery.IN_TRANSACTION)))
        .containsExactly(rows(2, PortalSuspended.INSTANCE, ReadyForQuery.IN_TRANSACTION));

    send(Optional.empty(), new Execute("c1", 2), FrontendMessage.Sync.INSTANCE);
    assertThat(receive(rows(2, PortalSuspended.INSTANCE, ReadyForQuery.IN_TRANSACTION)))
        .containsExactly(
            ROW,
            warning(
                "result truncated to 3 rows by policy rule capped (max-rows); the portal's further"
                    + " rows are not sent"),
            PortalSuspended.INSTANCE,
            ReadyForQuery.IN_TRANSACTION);

    send(Optional.empty(), new Execute("c1", 2), FrontendMessage.Sync.INSTANCE);
    assertThat(receive(rows(1, new CommandComplete("SELECT 1"), ReadyForQuery.IN_TRANSACTION)))
        .containsExactly(new CommandComplete("SELECT 0"), ReadyForQuery.IN_TRANSACTION);
  }

  @Test
  void bindingAgainOrClosingEndsAPortalsLimit() {
    send(THREE, bind("c1"));
    send(Optional.empty(), bind("c1"), new Execute("c1", 0));
    send(THREE, bind("c2"));
    send(Optional.empty(), new Close('P', "c2"), bind("c2"), new Execute("c2", 0));
    send(Optional.empty(), FrontendMessage.Sync.INSTANCE);
    assertThat(count(receive(rows(5, new CommandComplete("SELECT 5"))), ROW)).isEqualTo(5);
    assertThat(count(receive(rows(5, new CommandComplete("SELECT 5"))), ROW)).isEqualTo(5);
  }

  @Test
  void executesSkippedAfterAnErrorDoNotTakeTheNextBatchsRows() {
    send(Optional.empty(), bind(""), new Execute("", 0));
    send(THREE, bind("limited"));
    send(Optional.empty(), new Execute("limited", 0), FrontendMessage.Sync.INSTANCE);
    send(Optional.empty(), bind(""), new Execute("", 0), FrontendMessage.Sync.INSTANCE);
    ErrorResponse error = ErrorResponse.error("22012", "division by zero");
    assertThat(receive(rows(2, error, ReadyForQuery.IDLE)))
        .containsExactly(rows(2, error, ReadyForQuery.IDLE));
    assertThat(count(receive(rows(5, new CommandComplete("SELECT 5"))), ROW)).isEqualTo(5);
  }

  @Test
  void anErrorBeforeABatchWithALimitDoesNotEndThatLimit() {
    send(Optional.empty(), new FrontendMessage.Parse("", "SELEKT", new int[0]));
    send(Optional.empty(), FrontendMessage.Sync.INSTANCE);
    send(THREE, bind(""));
    send(Optional.empty(), new Execute("", 0), FrontendMessage.Sync.INSTANCE);
    receive(ErrorResponse.error("42601", "syntax error"));
    receive(ReadyForQuery.IDLE);
    assertThat(count(receive(rows(5, new CommandComplete("SELECT 5"))), ROW)).isEqualTo(3);
  }

  @Test
  void aPortalBoundAfterTheSyncOfAnEndedTransactionKeepsItsLimit() {
    send(Optional.empty(), new Query("COMMIT"));
    send(THREE, bind("c1"));
    receive(new CommandComplete("COMMIT"), ReadyForQuery.IDLE);
    send(Optional.empty(), new Execute("c1", 0), FrontendMessage.Sync.INSTANCE);
    assertThat(count(receive(rows(5, new CommandComplete("SELECT 5"))), ROW)).isEqualTo(3);
  }

  @Test
  void copyToStdoutCountsLinesAndKeepsTheBinaryTrailer() {
    CopyData line = new CopyData("1\n".getBytes());
    send(THREE, new Query("COPY … TO STDOUT"));
    List<BackendMessage> text =
        receive(
            new CopyOutResponse((byte) 0, new short[0]),
            line,
            line,
            line,
            line,
            line,
            CopyDone.INSTANCE,
            new CommandComplete("COPY 5"),
            ReadyForQuery.IDLE);
    assertThat(count(text, line)).isEqualTo(3);
    assertThat(text).contains(new CommandComplete("COPY 3"));

    CopyData trailer = new CopyData(new byte[] {(byte) 0xFF, (byte) 0xFF});
    send(THREE, new Query("COPY … TO STDOUT (FORMAT binary)"));
    List<BackendMessage> binary =
        receive(
            new CopyOutResponse((byte) 1, new short[0]),
            line,
            line,
            line,
            line,
            trailer,
            CopyDone.INSTANCE,
            new CommandComplete("COPY 4"),
            ReadyForQuery.IDLE);
    assertThat(count(binary, line)).isEqualTo(3);
    assertThat(binary)
        .containsSubsequence(trailer, CopyDone.INSTANCE)
        .contains(new CommandComplete("COPY 3"));
  }

  @Test
  void theCountOfRowsWrittenIsKept() {
    send(THREE, new Query("INSERT … RETURNING id"));
    List<BackendMessage> received =
        receive(rows(5, new CommandComplete("INSERT 0 5"), ReadyForQuery.IDLE));
    assertThat(count(received, ROW)).isEqualTo(3);
    assertThat(received).contains(new CommandComplete("INSERT 0 5"));
    assertThat(received.get(3)).isInstanceOf(NoticeResponse.class);
  }
}
