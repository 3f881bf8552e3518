package io.portcullis.policy.catalog;

import io.portcullis.policy.sql.StatementAnalysis;
import io.portcullis.policy.sql.StatementKind;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What the views, materialized views and SQL functions of one upstream database are built on, read
 * from its catalog, so that a rule on a table also covers every view and function that reads or
 * writes it. Immutable: a refresh builds a new snapshot.
 *
 * <p>Names are {@code schema.name}. A name without a schema, in a statement or in a function body,
 * stands for that name in every schema, as a rule's tables do ({@code Conditions.tableCovers}).
 */
public final class CatalogDependencies {

  /**
   * What a view's query or a SQL function's body names, qualified or not.
   *
   * @param reads relations it reads (for a view, every relation its query names)
   * @param writes relations it inserts into, updates or deletes from
   * @param calls functions it calls
   */
  public record References(Set<String> reads, Set<String> writes, Set<String> calls) {

    public References {
      reads = Set.copyOf(reads);
      writes = Set.copyOf(writes);
      calls = Set.copyOf(calls);
    }

    public References plus(References other) {
      return new References(
          union(reads, other.reads), union(writes, other.writes), union(calls, other.calls));
    }
  }

  /** Everything reached through one view or function, followed to the end. */
  private record Reach(Set<String> reads, Set<String> writes) {

    Reach plus(Reach other) {
      return new Reach(union(reads, other.reads), union(writes, other.writes));
    }
  }

  private static final CatalogDependencies EMPTY = of(Map.of(), Map.of(), Set.of());

  /** Schemas whose functions come with PostgreSQL: no session can add to them. */
  private static final Set<String> SYSTEM_SCHEMAS = Set.of("pg_catalog", "information_schema");

  /**
   * Keyed by qualified and by bare name, so that a statement's name is one lookup; only what
   * reaches some relation is a key.
   */
  private final Map<String, Reach> viewRead;

  private final Map<String, Reach> viewWritten;
  private final Map<String, Reach> functionCalled;
  private final Set<String> opaqueFunctions;

  /** Every function of the database outside the system schemas, by {@code schema.name}. */
  private final Set<String> defined;

  private CatalogDependencies(
      Map<String, Reach> viewRead,
      Map<String, Reach> viewWritten,
      Map<String, Reach> functionCalled,
      Set<String> opaqueFunctions,
      Set<String> defined) {
    this.viewRead = Map.copyOf(viewRead);
    this.viewWritten = Map.copyOf(viewWritten);
    this.functionCalled = Map.copyOf(functionCalled);
    this.opaqueFunctions = Set.copyOf(opaqueFunctions);
    this.defined = Set.copyOf(defined);
  }

  /** No views or functions known: every statement is left as it is. */
  public static CatalogDependencies empty() {
    return EMPTY;
  }

  /**
   * @param views every view and materialized view, by {@code schema.name}, with what its query
   *     names directly
   * @param functions every SQL-language function, by {@code schema.name} (overloads merged)
   * @param opaque functions whose bodies cannot be followed (PL/pgSQL, C, …, or a SQL body the
   *     analysis does not understand)
   */
  public static CatalogDependencies of(
      Map<String, References> views, Map<String, References> functions, Set<String> opaque) {
    Graph graph =
        new Graph(
            views,
            functions,
            opaque,
            index(views.keySet()),
            index(union(functions.keySet(), opaque)));
    Map<String, Reach> viewRead = new HashMap<>();
    Map<String, Reach> viewWritten = new HashMap<>();
    Map<String, Reach> functionCalled = new HashMap<>();
    Set<String> opaqueReached = new HashSet<>(opaque);
    for (String view : views.keySet()) {
      Walk read = new Walk(graph);
      read.view(view, false);
      putUnderBothNames(viewRead, view, read.reach());
      Walk written = new Walk(graph);
      written.view(view, true);
      putUnderBothNames(viewWritten, view, written.reach());
    }
    for (String function : functions.keySet()) {
      Walk call = new Walk(graph);
      call.function(function);
      putUnderBothNames(functionCalled, function, call.reach());
      if (call.opaque) {
        opaqueReached.add(function);
      }
    }
    return new CatalogDependencies(
        viewRead, viewWritten, functionCalled, opaqueReached, union(functions.keySet(), opaque));
  }

  /**
   * Whether the statement calls a function whose reads this snapshot cannot follow: one whose body
   * is not SQL (or calls such a function), or one it does not hold ({@link #callsUnknownFunction}).
   */
  public boolean callsUnreadableFunction(StatementAnalysis statement) {
    return callsOpaqueFunction(statement) || callsUnknownFunction(statement);
  }

  /**
   * Whether the statement calls, by its schema, a function this snapshot does not hold: made since
   * the catalog was read, or temporary ({@code pg_temp}, never in it). It may read anything. A name
   * without a schema is not judged: the analysis also takes an alias's column list ({@code v(a,
   * b)}) for a call, and built-in functions are called that way.
   */
  public boolean callsUnknownFunction(StatementAnalysis statement) {
    for (String function : statement.functions()) {
      int dot = function.lastIndexOf('.');
      if (dot > 0
          && !SYSTEM_SCHEMAS.contains(function.substring(0, dot))
          && !defined.contains(function)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Whether the statement calls a function defined in the database that reads a relation or whose
   * body cannot be followed: its result can carry whatever that function reads, which a plan does
   * not show.
   */
  public boolean callsDatabaseFunction(StatementAnalysis statement) {
    return namesAny(statement.functions(), functionCalled) || callsOpaqueFunction(statement);
  }

  private boolean callsOpaqueFunction(StatementAnalysis statement) {
    for (String function : statement.functions()) {
      if (opaqueFunctions.contains(function)) {
        return true;
      }
      for (String opaque : opaqueFunctions) {
        if (opaque.endsWith("." + function)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Functions whose effects are unknown, by {@code schema.name}: not written in SQL, or SQL calling
   * one of those, directly or not.
   */
  public Set<String> opaqueFunctions() {
    return opaqueFunctions;
  }

  /**
   * The statement with the relations behind its views and SQL functions added: the tables a view
   * reads (through views of views), the tables a called function reads and writes (through the
   * functions it calls), and for a write to a view the tables under it. The same instance when
   * there is nothing to add.
   */
  public StatementAnalysis expand(StatementAnalysis statement) {
    // Dropping, altering or granting on a view does not touch the rows under it.
    boolean writesThroughViews = !statement.kinds().contains(StatementKind.DDL);
    if (!namesAny(statement.tablesRead(), viewRead)
        && !(writesThroughViews && namesAny(statement.tablesWritten(), viewWritten))
        && !namesAny(statement.functions(), functionCalled)) {
      return statement;
    }
    Set<String> reads = new HashSet<>(statement.tablesRead());
    Set<String> writes = new HashSet<>(statement.tablesWritten());
    addReached(statement.tablesRead(), viewRead, reads, writes);
    if (writesThroughViews) {
      addReached(statement.tablesWritten(), viewWritten, reads, writes);
    }
    addReached(statement.functions(), functionCalled, reads, writes);
    if (reads.size() == statement.tablesRead().size()
        && writes.size() == statement.tablesWritten().size()) {
      return statement;
    }
    return new StatementAnalysis(
        statement.text(),
        statement.kinds(),
        reads,
        writes,
        statement.columns(),
        statement.functions(),
        statement.setting(),
        statement.prepared(),
        statement.executes(),
        statement.signals(),
        statement.unparsedReason());
  }

  private static boolean namesAny(Set<String> names, Map<String, Reach> index) {
    for (String name : names) {
      if (index.containsKey(name)) {
        return true;
      }
    }
    return false;
  }

  private static void addReached(
      Set<String> names, Map<String, Reach> index, Set<String> reads, Set<String> writes) {
    for (String name : names) {
      Reach reach = index.get(name);
      if (reach != null) {
        reads.addAll(reach.reads());
        writes.addAll(reach.writes());
      }
    }
  }

  /** Every key under its own name and under its bare name. */
  private static Map<String, Set<String>> index(Set<String> keys) {
    Map<String, Set<String>> index = new HashMap<>();
    for (String key : keys) {
      index.computeIfAbsent(key, k -> new HashSet<>()).add(key);
      index.computeIfAbsent(bare(key), k -> new HashSet<>()).add(key);
    }
    return index;
  }

  /** Nothing reached, nothing indexed: statements naming only such views are left as they are. */
  private static void putUnderBothNames(Map<String, Reach> index, String key, Reach reach) {
    if (reach.reads().isEmpty() && reach.writes().isEmpty()) {
      return;
    }
    index.merge(key, reach, Reach::plus);
    if (!bare(key).equals(key)) {
      index.merge(bare(key), reach, Reach::plus);
    }
  }

  private static String bare(String name) {
    return name.substring(name.lastIndexOf('.') + 1);
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    if (b.isEmpty()) {
      return a;
    }
    Set<String> both = new HashSet<>(a);
    both.addAll(b);
    return both;
  }

  /** The catalog's references, with views and functions indexed by qualified and bare name. */
  private record Graph(
      Map<String, References> views,
      Map<String, References> functions,
      Set<String> opaqueFunctions,
      Map<String, Set<String>> viewsNamed,
      Map<String, Set<String>> functionsNamed) {}

  /**
   * One depth-first walk from a view or function through everything it reaches. Every node is
   * visited once, so cycles (a function calling itself, a view calling a function that reads the
   * view) end.
   */
  private static final class Walk {
    private final Graph graph;
    private final Set<String> visited = new HashSet<>();
    private final Set<String> reads = new HashSet<>();
    private final Set<String> writes = new HashSet<>();
    private boolean opaque;

    Walk(Graph graph) {
      this.graph = graph;
    }

    /** A view read, or written when {@code written}: then the relations under it are written. */
    void view(String key, boolean written) {
      if (!visited.add((written ? "written view " : "view ") + key)) {
        return;
      }
      References references = graph.views().get(key);
      for (String relation : references.reads()) {
        relation(relation, written);
      }
      for (String function : references.calls()) {
        call(function);
      }
    }

    void function(String key) {
      if (!visited.add("function " + key)) {
        return;
      }
      opaque |= graph.opaqueFunctions().contains(key);
      References references = graph.functions().get(key);
      if (references == null) {
        return;
      }
      for (String relation : references.reads()) {
        relation(relation, false);
      }
      for (String relation : references.writes()) {
        relation(relation, true);
      }
      for (String function : references.calls()) {
        call(function);
      }
    }

    private void relation(String name, boolean written) {
      (written ? writes : reads).add(name);
      for (String view : graph.viewsNamed().getOrDefault(name, Set.of())) {
        view(view, written);
      }
    }

    private void call(String name) {
      for (String function : graph.functionsNamed().getOrDefault(name, Set.of())) {
        function(function);
      }
    }

    Reach reach() {
      return new Reach(Set.copyOf(reads), Set.copyOf(writes));
    }
  }
}
