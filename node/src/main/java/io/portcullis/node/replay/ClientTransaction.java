package io.portcullis.node.replay;

import io.portcullis.policy.sql.LexedStatement;
import io.portcullis.policy.sql.SqlLexer;
import io.portcullis.policy.sql.SqlSyntaxException;
import io.portcullis.policy.sql.Token;
import java.util.List;
import java.util.Optional;

/**
 * The client's transactions, inside the one transaction a replay runs in and rolls back: the
 * client's BEGIN becomes a savepoint, its COMMIT releases it, and its ROLLBACK (or a COMMIT of a
 * failed transaction, which PostgreSQL turns into a rollback) rolls back to it; so the writes a
 * client rolled back are rolled back in the sandbox too. Savepoints of the client's own run as
 * recorded. As PostgreSQL does, a BEGIN inside a transaction and a COMMIT or ROLLBACK outside one
 * change nothing.
 */
final class ClientTransaction {

  static final String SAVEPOINT = "portcullis_client";

  /** What the replay does for one statement of transaction control. */
  sealed interface Step permits Emulated, AsRecorded, NotReplayable {}

  /**
   * Done by the replay's own statement (none when it changes nothing), reported as {@code note}.
   */
  record Emulated(Optional<String> sql, String note) implements Step {}

  /** A savepoint of the client's: sent as recorded, and compared. */
  record AsRecorded() implements Step {}

  record NotReplayable(String reason) implements Step {}

  private boolean open;

  /**
   * The step for a statement of transaction control.
   *
   * @param recordedTag the command tag the statement returned when recorded
   */
  Step step(String sql, Optional<String> recordedTag) {
    List<LexedStatement> statements;
    try {
      statements = SqlLexer.split(sql, true);
    } catch (SqlSyntaxException e) {
      return new NotReplayable("transaction control the replay cannot read");
    }
    if (statements.size() != 1) {
      return new NotReplayable(
          "a simple query that both controls the transaction and runs other statements: it"
              + " cannot run inside the replay's transaction (use --commit on a disposable copy)");
    }
    List<Token> tokens = statements.get(0).tokens();
    if (tokens.isEmpty()) {
      return new AsRecorded();
    }
    Token first = tokens.get(0);
    boolean prepared = tokens.stream().anyMatch(t -> t.isWord("prepared"));
    boolean chain = chains(tokens);
    if (first.isWord("savepoint") || first.isWord("release")) {
      return new AsRecorded();
    }
    if (prepared || chain || first.isWord("prepare")) {
      return new NotReplayable(
          "two-phase commit and AND CHAIN cannot run inside the replay's transaction");
    }
    if (first.isWord("set")) {
      return new Emulated(
          Optional.empty(), "transaction settings: the replay's transaction keeps its own");
    }
    if (first.isWord("begin") || first.isWord("start")) {
      return begin();
    }
    if (first.isWord("rollback") || first.isWord("abort")) {
      if (tokens.stream().anyMatch(t -> t.isWord("to"))) {
        return new AsRecorded();
      }
      return end(true);
    }
    if (first.isWord("commit") || first.isWord("end")) {
      return end(recordedTag.map(tag -> tag.equals("ROLLBACK")).orElse(false));
    }
    return new AsRecorded();
  }

  private Step begin() {
    if (open) {
      return new Emulated(Optional.empty(), "BEGIN inside a transaction: changes nothing");
    }
    open = true;
    return new Emulated(
        Optional.of("SAVEPOINT " + SAVEPOINT),
        "the client's transaction begins: SAVEPOINT " + SAVEPOINT + " in the replay's");
  }

  private Step end(boolean rollback) {
    if (!open) {
      return new Emulated(Optional.empty(), "no transaction in progress: changes nothing");
    }
    open = false;
    if (rollback) {
      return new Emulated(
          Optional.of("ROLLBACK TO SAVEPOINT " + SAVEPOINT + "; RELEASE SAVEPOINT " + SAVEPOINT),
          "the client's transaction rolled back: ROLLBACK TO SAVEPOINT " + SAVEPOINT);
    }
    return new Emulated(
        Optional.of("RELEASE SAVEPOINT " + SAVEPOINT),
        "the client's transaction committed: RELEASE SAVEPOINT " + SAVEPOINT);
  }

  /** AND CHAIN, not AND NO CHAIN. */
  private static boolean chains(List<Token> tokens) {
    for (int i = 0; i < tokens.size(); i++) {
      if (tokens.get(i).isWord("chain")) {
        return i == 0 || !tokens.get(i - 1).isWord("no");
      }
    }
    return false;
  }
}
