package io.portcullis.node.masking;

import io.portcullis.node.policy.TargetCatalog;
import io.portcullis.policy.catalog.CatalogDependencies;
import io.portcullis.policy.catalog.Relations;
import io.portcullis.policy.catalog.Relations.Relation;
import io.portcullis.policy.masking.ColumnRule;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.protocol.BackendMessage.RowDescription.Column;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Which rule masks each column of a result, under one session's rules and the target's catalog as
 * last read: a plain table column by its own rule (or its partitioned or parent table's); a
 * computed or view column by the protected columns its lineage names; a column whose source cannot
 * be told by the first rule of a table the statement reads. Plain Java; the {@link ResultMasker}
 * knows which statement a result belongs to, this class what that means for its columns.
 */
final class ColumnDecisions {

  private final SessionMasking rules;
  private final Optional<TargetCatalog> catalog;

  ColumnDecisions(SessionMasking rules, Optional<TargetCatalog> catalog) {
    this.rules = rules;
    this.catalog = catalog;
  }

  private Relations relations() {
    return catalog.map(TargetCatalog::relations).orElse(Relations.empty());
  }

  /** The rules protecting a column of a table the statement reads or writes (RETURNING). */
  List<ColumnRule> touched(StatementAnalysis analysis) {
    if (analysis.isUnparsed()) {
      return rules.columns();
    }
    Optional<TargetCatalog> known = catalog;
    StatementAnalysis expanded = known.map(c -> c.dependencies().expand(analysis)).orElse(analysis);
    List<ColumnRule> touched = new ArrayList<>();
    boolean opaque =
        known.isEmpty()
            || expanded.functions().stream()
                .anyMatch(f -> known.get().dependencies().opaqueFunctions().contains(f));
    Set<String> tables = new LinkedHashSet<>(expanded.tablesRead());
    tables.addAll(expanded.tablesWritten());
    Relations relations = known.map(TargetCatalog::relations).orElse(Relations.empty());
    for (String table : List.copyOf(tables)) {
      relations
          .partitionRootsOf(table)
          .forEach(root -> tables.add(root.schema() + "." + root.name()));
    }
    for (ColumnRule rule : rules.columns()) {
      if ((opaque && rule.maskUnknownLineage()) || names(rule, tables)) {
        touched.add(rule);
      }
    }
    return touched;
  }

  private static boolean names(ColumnRule rule, Set<String> tables) {
    return rule.columns().stream().anyMatch(ref -> ref.tableAmong(tables));
  }

  /** Whether every column is a plain reference to a table column. */
  boolean allTableColumns(List<Column> columns) {
    Relations relations = relations();
    for (Column column : columns) {
      if (tableColumn(relations, column) == null) {
        return false;
      }
    }
    return true;
  }

  /** The table column a result column is a plain reference to, or null if it is computed. */
  private static Relation tableColumn(Relations relations, Column column) {
    if (column.tableOid() == 0) {
      return null;
    }
    Relation relation = relations.get(column.tableOid());
    return relation != null
            && (relation.kind() == Relations.Kind.TABLE
                || relation.kind() == Relations.Kind.FOREIGN_TABLE)
            && relation.column(column.columnNumber()) != null
        ? relation
        : null;
  }

  /**
   * How each column of a result is masked.
   *
   * @param origin where the result comes from, asked only if some column is computed
   * @param lineage the plan's lineage of the result's columns, null when not known
   */
  ResultShape shape(List<Column> columns, Supplier<Origin> origin, List<ColumnLineage> lineage) {
    if (rules.columns().isEmpty()) {
      return ResultShape.unprotected(columns, rules);
    }
    Relations relations = relations();
    Origin from = null;
    ColumnRule[] masks = new ColumnRule[columns.size()];
    for (int i = 0; i < columns.size(); i++) {
      Column column = columns.get(i);
      Relation relation = relations.get(column.tableOid());
      if (relation == null && column.tableOid() != 0) {
        // A relation the catalog has not seen yet (made since it was last read): fail closed.
        masks[i] = firstMaskingUnknown(rules.columns());
        continue;
      }
      if (relation != null && relation.column(column.columnNumber()) != null) {
        // A rule may name a view's column too.
        masks[i] =
            ruleForColumn(
                relation.schema(), relation.name(), relation.column(column.columnNumber()));
        if (masks[i] != null || tableColumn(relations, column) != null) {
          continue;
        }
      }
      if (from == null) {
        from = origin.get();
      }
      masks[i] = derived(i, columns.size(), from, lineage);
    }
    return new ResultShape(columns, masks, rules);
  }

  /** The first rule that masks columns whose source is unknown, or null. */
  static ColumnRule firstMaskingUnknown(List<ColumnRule> rules) {
    for (ColumnRule rule : rules) {
      if (rule.maskUnknownLineage()) {
        return rule;
      }
    }
    return null;
  }

  /** The rule for a computed column: by its lineage, else by what the statement reads. */
  ColumnRule derived(int index, int count, Origin origin, List<ColumnLineage> lineage) {
    if (origin.touched().isEmpty()) {
      return null;
    }
    ColumnLineage known =
        lineage != null && lineage.size() >= count ? lineage.get(index) : ColumnLineage.UNKNOWN;
    for (SourceColumn source : known.columns()) {
      ColumnRule rule = ruleForColumn(source.schema(), source.table(), source.column());
      if (rule != null) {
        return rule;
      }
    }
    for (SourceTable source : known.wholeRows()) {
      for (Relations.Name table : asRuleNamesIt(source.schema(), source.table())) {
        List<ColumnRule> protecting = rules.rulesFor(table.schema(), table.name());
        if (!protecting.isEmpty()) {
          return protecting.get(0);
        }
      }
    }
    if (!known.complete() || origin.opaque() || readsView(known)) {
      return firstMaskingUnknown(origin.touched());
    }
    return null;
  }

  /**
   * Whether a plan reads a view or materialized view as such (a materialized view is scanned, not
   * expanded): its columns' sources are behind it.
   */
  private boolean readsView(ColumnLineage lineage) {
    Relations relations = relations();
    for (SourceColumn source : lineage.columns()) {
      Relation relation = relations.named(source.schema(), source.table());
      if (relation == null || relation.kind() != Relations.Kind.TABLE) {
        return true;
      }
    }
    return false;
  }

  /** The rule protecting a table's column, or a partition's column as its partitioned table's. */
  ColumnRule ruleForColumn(String schema, String table, String column) {
    for (Relations.Name name : asRuleNamesIt(schema, table)) {
      ColumnRule rule = rules.ruleFor(name.schema(), name.name(), column);
      if (rule != null) {
        return rule;
      }
    }
    return null;
  }

  /** The table a plan names, and for a partition the partitioned table a rule names. */
  private List<Relations.Name> asRuleNamesIt(String schema, String table) {
    Relations.Name name = new Relations.Name(schema, table);
    Relation relation = relations().named(schema, table);
    return relation == null || relation.partitionRoot().isEmpty()
        ? List.of(name)
        : List.of(name, relation.partitionRoot().get());
  }

  /**
   * Whether it calls by its schema a function the catalog did not hold when read ({@link
   * CatalogDependencies#callsUnknownFunction}). Without a catalog, {@link #callsDatabaseFunction}
   * says yes to every call already.
   */
  boolean callsUnknownFunction(StatementAnalysis analysis) {
    Optional<TargetCatalog> known = catalog;
    return known.isPresent() && known.get().dependencies().callsUnknownFunction(analysis);
  }

  boolean callsDatabaseFunction(StatementAnalysis analysis) {
    Optional<TargetCatalog> known = catalog;
    return known.isEmpty() || known.get().dependencies().callsDatabaseFunction(analysis);
  }
}
