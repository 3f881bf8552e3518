package io.portcullis.persistence.journal;

import com.zaxxer.hikari.SQLExceptionOverride;
import java.sql.SQLException;

/**
 * Tells the journal's connection pool to drop a connection to an embedded H2 database that has
 * closed itself, which it does after a failed write (a full disk): its error code is not one the
 * pool knows, and without this every pooled connection would stay dead after space is freed. A new
 * connection opens the database again.
 */
public final class ClosedDatabaseEviction implements SQLExceptionOverride {

  /** H2's DATABASE_IS_CLOSED. */
  private static final int H2_DATABASE_IS_CLOSED = 90098;

  @java.lang.Override
  public Override adjudicate(SQLException exception) {
    return exception.getErrorCode() == H2_DATABASE_IS_CLOSED
        ? Override.MUST_EVICT
        : Override.CONTINUE_EVICT;
  }
}
