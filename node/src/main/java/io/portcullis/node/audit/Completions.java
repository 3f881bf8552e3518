package io.portcullis.node.audit;

import io.portcullis.persistence.audit.SessionEvent.StatementCompleted;

/** Where the masking stage reports what each journaled statement returned. */
public interface Completions {

  /** The journal number of the next statement sent upstream, in order; 0 if it has none. */
  long nextForwarded();

  /** How much of each result is kept. */
  ResultRecord.Limits limits();

  void completed(StatementCompleted event);

  /** The masking replaced this many values of a result (a row's, a COPY chunk's). */
  void masked(int values);
}
