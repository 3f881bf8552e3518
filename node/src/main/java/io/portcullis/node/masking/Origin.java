package io.portcullis.node.masking;

import io.portcullis.policy.masking.ColumnRule;
import java.util.List;

/**
 * Where a result comes from: its statement, and what that statement reads.
 *
 * @param sql the statement the result belongs to, null if unknown
 * @param touched the rules protecting a column of a table it reads
 * @param explainable what to plan for the lineage of its computed columns, null if nothing can
 * @param opaque whether it calls functions whose results a plan does not trace (functions defined
 *     in the database that read tables or cannot be followed, SQL in strings)
 */
record Origin(String sql, List<ColumnRule> touched, LineageRequest explainable, boolean opaque) {}
