package io.portcullis.node.policy;

import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.CommandComplete;
import io.portcullis.protocol.BackendMessage.CopyOutResponse;
import io.portcullis.protocol.BackendMessage.DataRow;
import io.portcullis.protocol.BackendMessage.EmptyQueryResponse;
import io.portcullis.protocol.BackendMessage.NoticeResponse;
import io.portcullis.protocol.BackendMessage.PortalSuspended;
import io.portcullis.protocol.BackendMessage.ReadyForQuery;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.FrontendMessage.Bind;
import io.portcullis.protocol.FrontendMessage.Close;
import io.portcullis.protocol.FrontendMessage.Execute;
import io.portcullis.protocol.FrontendMessage.Query;
import io.portcullis.protocol.WireMessage.CopyData;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Enforces {@code max-rows}: follows which request each upstream result belongs to, and drops the
 * rows (DataRow, or CopyData of COPY TO STDOUT) beyond the limit of the rule that allowed it. A
 * truncated result ends with a WARNING notice and its command tag's row count corrected. Rows are
 * counted, never kept.
 *
 * <p>A Query's limit applies to each of its result sets. A Bind's applies to the portal, counted
 * across the Executes that fetch it in pieces, until the portal is bound again, closed, or ends
 * with its transaction. Results come back in the order of the Queries and Executes sent; after an
 * error PostgreSQL skips the rest of an extended batch, so at each ReadyForQuery whatever was sent
 * before its sync point is forgotten.
 *
 * <p>Plain Java, called by {@code PolicyStage} on the session's event loop for every message sent
 * upstream and every message coming back.
 */
public final class RowLimits {

  /** The most rows a result may have, and the rules whose {@code max-rows} set it. */
  public record Limit(long rows, List<String> ruleIds) {
    public Limit {
      ruleIds = List.copyOf(ruleIds);
    }
  }

  /** What becomes of one upstream message. */
  public sealed interface Decision permits Pass, Drop, Replace {}

  /** Send it on as it is. */
  public enum Pass implements Decision {
    INSTANCE
  }

  /** Send nothing: a row beyond the limit. */
  public enum Drop implements Decision {
    INSTANCE
  }

  /** Send these instead: a warning about the truncation, then the message, its count corrected. */
  public record Replace(List<BackendMessage> messages) implements Decision {
    public Replace {
      messages = List.copyOf(messages);
    }
  }

  /** Tags whose count is the rows returned; the others' count rows written, which did happen. */
  private static final Set<String> COUNTS_ROWS_RETURNED = Set.of("SELECT", "FETCH", "COPY");

  /** The trailer that ends a binary COPY: a field count of -1. It is not a row. */
  private static final byte[] BINARY_COPY_TRAILER = {(byte) 0xFF, (byte) 0xFF};

  /** The rows of one result set of a Query, or of a portal across its Executes. */
  private static final class Counted {
    private final Limit limit;
    private long sent;
    private long dropped;
    private boolean told;

    Counted(Limit limit) {
      this.limit = limit;
    }

    boolean take() {
      if (sent < limit.rows()) {
        sent++;
        return true;
      }
      dropped++;
      return false;
    }
  }

  /** A portal with a limit, bound before the {@code syncPoint}-th ReadyForQuery. */
  private record Portal(Counted rows, long syncPoint) {}

  /**
   * A Query or Execute whose results are still to come, and the count of their rows (null when
   * unlimited). Its command tag counts the rows of this Execute or result set only, so the rows it
   * dropped are counted apart.
   */
  private static final class Pending {
    private final long syncPoint;
    private final boolean query;
    private Counted rows;
    private long droppedHere;
    private boolean binaryCopy;

    Pending(long syncPoint, boolean query, Counted rows) {
      this.syncPoint = syncPoint;
      this.query = query;
      this.rows = rows;
    }
  }

  private final Deque<Pending> pending = new ArrayDeque<>();
  private final Map<String, Portal> portals = new HashMap<>();

  private long readyReceived;

  /**
   * A message goes upstream; {@code syncPoint} is the number of the ReadyForQuery that ends its
   * batch (counting from 0, as the session's ReadyForQuery messages arrive).
   */
  public void sent(FrontendMessage message, Optional<Limit> limit, long syncPoint) {
    if (message instanceof Query) {
      pending.add(new Pending(syncPoint, true, limit.map(Counted::new).orElse(null)));
    } else if (message instanceof Bind bind) {
      if (limit.isPresent()) {
        portals.put(bind.portal(), new Portal(new Counted(limit.get()), syncPoint));
      } else {
        portals.remove(bind.portal());
      }
    } else if (message instanceof Execute execute) {
      Portal portal = portals.get(execute.portal());
      pending.add(new Pending(syncPoint, false, portal == null ? null : portal.rows()));
    } else if (message instanceof Close close && close.target() == 'P') {
      portals.remove(close.name());
    }
  }

  /** A message comes from upstream: what the client gets in its place. */
  public Decision response(BackendMessage message) {
    if (message instanceof ReadyForQuery ready) {
      ready(ready.transactionStatus());
      return Pass.INSTANCE;
    }
    Pending current = pending.peek();
    if (current == null) {
      return Pass.INSTANCE;
    }
    if (message instanceof DataRow) {
      return row(current);
    }
    if (message instanceof CopyData data) {
      return current.binaryCopy && Arrays.equals(data.data(), BINARY_COPY_TRAILER)
          ? Pass.INSTANCE
          : row(current);
    }
    if (message instanceof CopyOutResponse copy) {
      current.binaryCopy = copy.format() == 1;
      return Pass.INSTANCE;
    }
    if (message instanceof CommandComplete complete) {
      return completed(current, complete);
    }
    if (message == PortalSuspended.INSTANCE) {
      pending.poll();
      return suspended(current);
    }
    if (message == EmptyQueryResponse.INSTANCE && !current.query) {
      pending.poll();
    }
    // An ErrorResponse ends the request too, but nothing else of its batch comes before the
    // ReadyForQuery that clears it.
    return Pass.INSTANCE;
  }

  private void ready(char transactionStatus) {
    while (!pending.isEmpty() && pending.peek().syncPoint <= readyReceived) {
      pending.poll();
    }
    if (transactionStatus == 'I') {
      // Portals live until the end of their transaction; those bound after this sync point may
      // belong to a transaction that is still to start.
      portals.values().removeIf(portal -> portal.syncPoint() <= readyReceived);
    }
    readyReceived++;
  }

  private static Decision row(Pending current) {
    if (current.rows == null || current.rows.take()) {
      return Pass.INSTANCE;
    }
    current.droppedHere++;
    return Drop.INSTANCE;
  }

  private Decision completed(Pending current, CommandComplete complete) {
    Counted rows = current.rows;
    long droppedHere = current.droppedHere;
    if (current.query) {
      current.rows = rows == null ? null : new Counted(rows.limit);
      current.droppedHere = 0;
      current.binaryCopy = false;
    } else {
      pending.poll();
    }
    if (droppedHere == 0) {
      return Pass.INSTANCE;
    }
    CommandComplete corrected = new CommandComplete(corrected(complete.tag(), droppedHere));
    if (rows.told) {
      return new Replace(List.of(corrected));
    }
    rows.told = true;
    return new Replace(
        List.of(
            truncated(
                rows.limit,
                "; " + plural(rows.dropped, "more row was", "more rows were") + " not sent"),
            corrected));
  }

  /**
   * A portal fetched in pieces: once it has lost rows, the client is told at the end of that
   * Execute, as the portal may never be run to its end.
   */
  private static Decision suspended(Pending current) {
    if (current.droppedHere == 0 || current.rows.told) {
      return Pass.INSTANCE;
    }
    current.rows.told = true;
    return new Replace(
        List.of(
            truncated(current.rows.limit, "; the portal's further rows are not sent"),
            PortalSuspended.INSTANCE));
  }

  private static NoticeResponse truncated(Limit limit, String rest) {
    String rules =
        (limit.ruleIds().size() == 1 ? "rule " : "rules ") + String.join(", ", limit.ruleIds());
    return NoticeResponse.of(
        "WARNING",
        "01000",
        "result truncated to "
            + plural(limit.rows(), "row", "rows")
            + " by policy "
            + rules
            + " (max-rows)"
            + rest);
  }

  private static String plural(long n, String one, String many) {
    return n + " " + (n == 1 ? one : many);
  }

  /** {@code SELECT 5000} with 4000 rows dropped becomes {@code SELECT 1000}. */
  private static String corrected(String tag, long dropped) {
    int space = tag.lastIndexOf(' ');
    if (space < 0 || !COUNTS_ROWS_RETURNED.contains(tag.substring(0, space))) {
      return tag;
    }
    return tag.substring(0, space + 1) + (Long.parseLong(tag.substring(space + 1)) - dropped);
  }
}
