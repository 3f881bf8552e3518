package io.portcullis.node.masking;

import java.util.List;
import java.util.concurrent.CompletionStage;

/** Plans statements on one session's target: {@link Lineages} for that target. */
@FunctionalInterface
public interface LineageSource {
  CompletionStage<List<ColumnLineage>> of(String sql, int parameterCount);
}
