package io.portcullis.persistence.audit.index;

import java.util.Optional;
import java.util.Set;

/**
 * Which sessions to find. A session matches when it was open during the time range and has the
 * given identity, target and client address; the statement filters (table, decision, approval,
 * SQLSTATE) also require one of its statements in the range to match them all.
 *
 * @param user the identity's subject, exactly as its token or certificate named it
 * @param table a relation as the policy resolved it ({@code schema.table}); a name without a schema
 *     matches it in any schema
 * @param limit the most sessions returned, oldest first
 */
public record SessionQuery(
    Optional<String> user,
    TimeRange range,
    Optional<String> target,
    Optional<String> table,
    Optional<String> decision,
    Optional<String> approval,
    Optional<String> client,
    Optional<String> sqlState,
    int limit) {

  private static final Set<String> DECISIONS = Set.of("allow", "deny", "review");

  public SessionQuery {
    if (decision.isPresent() && !DECISIONS.contains(decision.get())) {
      throw new IllegalArgumentException(
          "unknown decision '" + decision.get() + "'; use allow, deny or review");
    }
    if (limit < 1) {
      throw new IllegalArgumentException("the limit must be at least 1, not " + limit);
    }
  }

  boolean filtersStatements() {
    return table.isPresent()
        || decision.isPresent()
        || approval.isPresent()
        || sqlState.isPresent();
  }
}
