package io.portcullis.policy.catalog;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The relations of a database by OID, with their columns by number: what a RowDescription's table
 * OID and column number refer to.
 */
public final class Relations {

  /** What kind of relation, as {@code pg_class.relkind} says. */
  public enum Kind {
    TABLE,
    VIEW,
    MATERIALIZED_VIEW,
    FOREIGN_TABLE;

    public static Kind of(char relkind) {
      switch (relkind) {
        case 'v':
          return VIEW;
        case 'm':
          return MATERIALIZED_VIEW;
        case 'f':
          return FOREIGN_TABLE;
        default:
          return TABLE;
      }
    }
  }

  /** A relation's schema and name. */
  public record Name(String schema, String name) {}

  /**
   * @param columns by column number less one; null where a column was dropped
   * @param types the columns' type OIDs, by column number less one
   * @param generated the numbers of generated columns (left out of {@code COPY table TO})
   * @param partitionRoot for a partition or an inheritance child, the table at the top of its tree,
   *     whose masking rules cover it
   */
  public record Relation(
      String schema,
      String name,
      Kind kind,
      List<String> columns,
      List<Integer> types,
      Set<Integer> generated,
      Optional<Name> partitionRoot) {

    /** The column's name, or null for a number the relation does not have. */
    public String column(int number) {
      return number >= 1 && number <= columns.size() ? columns.get(number - 1) : null;
    }

    /** The column's type OID, or 0 for a number the relation does not have. */
    public int type(int number) {
      return number >= 1 && number <= types.size() ? types.get(number - 1) : 0;
    }
  }

  private static final Relations EMPTY = new Relations(Map.of());

  private final Map<Integer, Relation> byOid;
  private final Map<Name, Relation> byName = new HashMap<>();

  /** Every schema, relation and column name, in lower case. */
  private final Set<String> names = new HashSet<>();

  private Relations(Map<Integer, Relation> byOid) {
    this.byOid = byOid;
    for (Relation relation : byOid.values()) {
      byName.put(new Name(relation.schema(), relation.name()), relation);
      names.add(relation.schema().toLowerCase(Locale.ROOT));
      names.add(relation.name().toLowerCase(Locale.ROOT));
      for (String column : relation.columns()) {
        if (column != null) {
          names.add(column.toLowerCase(Locale.ROOT));
        }
      }
    }
  }

  public static Relations empty() {
    return EMPTY;
  }

  public static Relations of(Map<Integer, Relation> byOid) {
    return new Relations(new HashMap<>(byOid));
  }

  /** The relation, or null if the OID is not one of a user table, view or foreign table. */
  public Relation get(int oid) {
    return byOid.get(oid);
  }

  /**
   * For a table name as a statement writes it ({@code schema.name} or {@code name}, in any schema),
   * the partitioned tables at the top of the trees that such partitions belong to.
   */
  public Set<Name> partitionRootsOf(String table) {
    int dot = table.lastIndexOf('.');
    String schema = dot < 0 ? null : table.substring(0, dot);
    String name = table.substring(dot + 1);
    Set<Name> roots = new HashSet<>();
    if (schema != null) {
      Relation relation = named(schema, name);
      if (relation != null) {
        relation.partitionRoot().ifPresent(roots::add);
      }
      return roots;
    }
    for (Relation relation : byOid.values()) {
      if (relation.name().equals(name)) {
        relation.partitionRoot().ifPresent(roots::add);
      }
    }
    return roots;
  }

  /** Every relation of this name, in any schema. */
  public List<Relation> allNamed(String name) {
    List<Relation> named = new ArrayList<>();
    for (Relation relation : byOid.values()) {
      if (relation.name().equals(name)) {
        named.add(relation);
      }
    }
    return named;
  }

  /** Whether a schema, relation or column has this name, in any case. */
  public boolean hasName(String name) {
    return names.contains(name.toLowerCase(Locale.ROOT));
  }

  /** The relation with this schema and name, or null. */
  public Relation named(String schema, String name) {
    return byName.get(new Name(schema, name));
  }
}
