package io.portcullis.node.replay;

import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.SessionEvent.CopyDataReceived;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.WireMessage;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

/**
 * The data a recorded statement's client sent for its {@code COPY ... FROM STDIN}s, sent to the
 * sandbox one copy at a time, as the sandbox asks for it, and each chunk opened only as it is sent.
 */
final class RecordedCopies {

  static final String FAILED_AS_RECORDED = "portcullis replay: the client failed this copy";
  private static final String NOT_KEPT = "portcullis replay: the journal does not hold this data";

  private final String session;
  private final long statement;
  private final ClientDataSeal seal;
  private final Iterator<CopyDataReceived> chunks;

  RecordedCopies(
      String session, long statement, List<CopyDataReceived> chunks, ClientDataSeal seal) {
    this.session = session;
    this.statement = statement;
    this.seal = seal;
    this.chunks = chunks.iterator();
  }

  /**
   * Sends the next copy's data and ends it as the client did; or, when that cannot be, fails it.
   *
   * @return why the copy could not be sent as recorded
   */
  Optional<String> sendNext(SandboxConnection sandbox) {
    if (!chunks.hasNext()) {
      return fail(
          sandbox,
          "COPY ... FROM STDIN: the journal holds no data for it (it was recorded before Portcullis"
              + " kept COPY data)");
    }
    while (chunks.hasNext()) {
      CopyDataReceived chunk = chunks.next();
      if (chunk.sealedData().isEmpty()) {
        return fail(
            sandbox,
            "its COPY data was not sealed when it was recorded (no sealing key was configured)");
      }
      byte[] data;
      try {
        data = seal.openCopyData(session, statement, chunk.chunk(), chunk.sealedData().get());
      } catch (ClientDataSeal.SealException e) {
        return fail(sandbox, "its COPY data cannot be unsealed: " + e.getMessage());
      }
      if (data.length > 0) {
        sandbox.sendAndWait(new WireMessage.CopyData(data));
      }
      if (chunk.end().isPresent()) {
        sandbox.send(
            chunk.end().get().equals(CopyDataReceived.DONE)
                ? WireMessage.CopyDone.INSTANCE
                : new FrontendMessage.CopyFail(FAILED_AS_RECORDED));
        return Optional.empty();
      }
    }
    return fail(sandbox, "the journal holds only part of its COPY data: the copy never ended");
  }

  private static Optional<String> fail(SandboxConnection sandbox, String why) {
    sandbox.send(new FrontendMessage.CopyFail(NOT_KEPT));
    return Optional.of(why);
  }
}
