package io.portcullis.policy.sql;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Finds, from the tokens alone, every place a relation, function or column can appear in a
 * statement, at any depth. It over-approximates on purpose: a name that might be a table is
 * reported as one, so that neither a CTE, an alias, a sub-query in an odd clause, nor a write
 * hidden in a read can take a table out of the policy's sight.
 */
final class TokenWalk {

  /**
   * Words that end a FROM list at their depth. Not ON or WITH: {@code FROM a JOIN b ON … , c} and
   * {@code FROM f() WITH ORDINALITY, c} go on with another relation.
   */
  private static final Set<String> CLAUSE_WORDS =
      Set.of(
          "where",
          "group",
          "having",
          "window",
          "order",
          "limit",
          "offset",
          "fetch",
          "for",
          "union",
          "intersect",
          "except",
          "returning",
          "set",
          "values",
          "select",
          "into",
          "when",
          "then",
          "do");

  /** Words followed by a parenthesis that are syntax, not function calls. */
  private static final Set<String> NOT_FUNCTIONS =
      Set.of(
          "in",
          "exists",
          "any",
          "all",
          "some",
          "values",
          "as",
          "on",
          "using",
          "over",
          "filter",
          "within",
          "and",
          "or",
          "not",
          "select",
          "from",
          "where",
          "row",
          "array",
          "lateral",
          "join",
          "into",
          "by",
          "then",
          "else",
          "when",
          "case",
          "is",
          "table",
          "conflict",
          "set",
          "with",
          "recursive",
          "materialized",
          "cube",
          "rollup",
          "grouping",
          "sets",
          "returning",
          "default",
          "distinct",
          "partition",
          "like",
          "similar",
          "between",
          "only",
          "explain",
          "analyze",
          "analyse",
          "verbose",
          "vacuum",
          "ordinality",
          "cursor",
          "of",
          "copy",
          "to",
          "view",
          "key",
          "unique",
          "primary",
          "references",
          "check",
          "foreign",
          "index",
          "include",
          "tablespace",
          "do",
          "nothing",
          "update",
          "delete",
          "insert",
          "merge",
          "matched",
          "language",
          "returns",
          "inherits",
          "options",
          "server",
          "type",
          "domain",
          "collate",
          "limit",
          "offset",
          "order",
          "group",
          "having",
          "window",
          "union",
          "except",
          "intersect");

  /**
   * Reserved words of PostgreSQL (and a few frequent non-reserved keywords) that are never column
   * names when unquoted.
   */
  private static final Set<String> KEYWORDS =
      Set.of(
          "all",
          "analyse",
          "analyze",
          "and",
          "any",
          "array",
          "as",
          "asc",
          "asymmetric",
          "both",
          "case",
          "cast",
          "check",
          "collate",
          "column",
          "constraint",
          "create",
          "current_catalog",
          "current_date",
          "current_role",
          "current_time",
          "current_timestamp",
          "current_user",
          "default",
          "deferrable",
          "desc",
          "distinct",
          "do",
          "else",
          "end",
          "except",
          "false",
          "fetch",
          "for",
          "foreign",
          "from",
          "grant",
          "group",
          "having",
          "in",
          "initially",
          "intersect",
          "into",
          "lateral",
          "leading",
          "limit",
          "localtime",
          "localtimestamp",
          "not",
          "null",
          "offset",
          "on",
          "only",
          "or",
          "order",
          "placing",
          "primary",
          "references",
          "returning",
          "select",
          "session_user",
          "some",
          "symmetric",
          "table",
          "then",
          "to",
          "trailing",
          "true",
          "union",
          "unique",
          "user",
          "using",
          "variadic",
          "when",
          "where",
          "window",
          "with",
          "join",
          "inner",
          "left",
          "right",
          "full",
          "outer",
          "cross",
          "natural",
          "is",
          "isnull",
          "notnull",
          "like",
          "ilike",
          "similar",
          "between",
          "exists",
          "over",
          "partition",
          "by",
          "filter",
          "within",
          "recursive",
          "materialized",
          "values",
          "set",
          "update",
          "delete",
          "insert",
          "merge",
          "matched",
          "nothing",
          "conflict",
          "interval",
          "year",
          "month",
          "day",
          "hour",
          "minute",
          "second",
          "zone",
          "time",
          "timestamp",
          "extract",
          "substring",
          "trim",
          "overlay",
          "position",
          "coalesce",
          "nullif",
          "greatest",
          "least",
          "row",
          "rows",
          "range",
          "groups",
          "preceding",
          "following",
          "unbounded",
          "current",
          "first",
          "last",
          "nulls",
          "next",
          "share",
          "nowait",
          "skip",
          "locked",
          "key",
          "of",
          "escape",
          "ordinality",
          "boolean",
          "integer",
          "int",
          "bigint",
          "smallint",
          "numeric",
          "decimal",
          "real",
          "double",
          "precision",
          "varchar",
          "char",
          "character",
          "varying",
          "text",
          "bytea",
          "date",
          "json",
          "jsonb",
          "uuid",
          "ties",
          "cube",
          "rollup",
          "grouping",
          "sets",
          "no",
          "action",
          "cascade",
          "restrict",
          "if",
          "temp",
          "temporary",
          "unlogged",
          "view",
          "index",
          "sequence",
          "replace",
          "begin",
          "commit",
          "rollback",
          "transaction",
          "explain",
          "verbose",
          "returns",
          "language",
          "cursor",
          "hold",
          "scroll",
          "binary",
          "insensitive",
          "absolute",
          "relative",
          "prior",
          "forward",
          "backward",
          "copy",
          "stdin",
          "stdout",
          "program",
          "csv",
          "header",
          "format",
          "delimiter",
          "freeze",
          "truncate",
          "lock",
          "mode",
          "access",
          "exclusive",
          "local",
          "session",
          "none");

  private final List<Token> tokens;
  private final boolean ddl;
  final Set<String> read = new LinkedHashSet<>();
  final Set<String> written = new LinkedHashSet<>();
  final Set<String> cteNames = new LinkedHashSet<>();
  final Set<String> functions = new LinkedHashSet<>();
  final Set<String> columns = new LinkedHashSet<>();
  final Set<String> aliases = new LinkedHashSet<>();
  final Set<StatementKind> writeKinds = EnumSet.noneOf(StatementKind.class);
  boolean lockingRead;
  boolean selectInto;
  boolean star;

  /** Whether an UPDATE or DELETE, at any depth, lacks a WHERE of its own. */
  boolean unboundedWrite;

  /** A name read in a relation position, resolved against CTEs once the walk is done. */
  private record RelationReference(String name, int index) {}

  /** A WITH query: references to its name between its body's end and scopeEnd are to it. */
  private record Cte(String name, int bodyStart, int bodyEnd, int scopeEnd, boolean recursive) {}

  private final List<RelationReference> readReferences = new ArrayList<>();
  private final List<Cte> ctes = new ArrayList<>();

  /** Where UPDATE and DELETE statements start. */
  private final List<Integer> updatesAndDeletes = new ArrayList<>();

  /** Token indexes already accounted for as relation or function names. */
  private final Set<Integer> consumed = new java.util.HashSet<>();

  /** Per depth: the statement word (select, delete, …) of the group being read. */
  private final Map<Integer, String> statementAtDepth = new HashMap<>();

  /** Per depth: whether a comma there continues a FROM (or USING, TRUNCATE…) list. */
  private final Map<Integer, Boolean> relationListAtDepth = new HashMap<>();

  /** Per depth: how many CASE expressions are open there, whose WHEN and THEN end no clause. */
  private final Map<Integer, Integer> openCases = new HashMap<>();

  TokenWalk(List<Token> tokens, boolean ddl) {
    this.tokens = tokens;
    this.ddl = ddl;
  }

  TokenWalk run() {
    for (int i = 0; i < tokens.size(); i++) {
      Token token = tokens.get(i);
      if (token.isPunctuation("(")) {
        statementAtDepth.remove(token.depth() + 1);
        relationListAtDepth.remove(token.depth() + 1);
        openCases.remove(token.depth() + 1);
        continue;
      }
      if (token.isPunctuation(",")
          && relationListAtDepth.getOrDefault(token.depth(), false)
          && i + 1 < tokens.size()) {
        relation(i + 1, isWriteList(token.depth()));
        continue;
      }
      if (token.type() == Token.Type.OPERATOR && token.value().equals("*")) {
        Token before = i > 0 ? tokens.get(i - 1) : null;
        if (before == null
            || before.isWord("select")
            || before.isPunctuation(",")
            || before.isPunctuation(".")
            || before.isPunctuation("(")
            || before.isWord("distinct")
            || before.isWord("returning")) {
          star = true;
        }
        continue;
      }
      if (token.type() != Token.Type.WORD) {
        continue;
      }
      word(i, token);
    }
    for (RelationReference reference : readReferences) {
      if (!isCteReference(reference)) {
        read.add(reference.name());
      }
    }
    for (int at : updatesAndDeletes) {
      unboundedWrite |= !hasWhere(at);
    }
    names();
    return this;
  }

  /**
   * Whether the UPDATE or DELETE at {@code at} has a WHERE at its own depth, before its group ends.
   */
  private boolean hasWhere(int at) {
    int depth = tokens.get(at).depth();
    for (int k = at + 1; k < tokens.size() && tokens.get(k).depth() >= depth; k++) {
      if (tokens.get(k).depth() == depth && tokens.get(k).isWord("where")) {
        return true;
      }
    }
    return false;
  }

  private boolean isCteReference(RelationReference reference) {
    for (Cte cte : ctes) {
      if (!cte.name().equals(reference.name())) {
        continue;
      }
      int at = reference.index();
      boolean inOwnBody = at > cte.bodyStart() && at < cte.bodyEnd();
      if ((at > cte.bodyEnd() && at < cte.scopeEnd()) || (inOwnBody && cte.recursive())) {
        return true;
      }
    }
    return false;
  }

  /**
   * Reads {@code WITH [RECURSIVE] name [(columns)] AS [NOT] [MATERIALIZED] (body), …} starting at
   * the WITH; other uses of WITH (WITH TIME ZONE, WITH ORDINALITY, WITH HOLD, …) are left alone.
   */
  private void with(int at) {
    int depth = tokens.get(at).depth();
    boolean recursive = at + 1 < tokens.size() && tokens.get(at + 1).isWord("recursive");
    int scopeEnd = groupEnd(at, depth);
    int i = recursive ? at + 2 : at + 1;
    while (i < tokens.size() && tokens.get(i).isName()) {
      int nameAt = i;
      i++;
      if (i < tokens.size() && tokens.get(i).isPunctuation("(")) {
        i = closing(i) + 1;
      }
      if (i >= tokens.size() || !tokens.get(i).isWord("as")) {
        return;
      }
      i = skip(i + 1, "not", "materialized");
      if (i >= tokens.size() || !tokens.get(i).isPunctuation("(")) {
        return;
      }
      int bodyEnd = closing(i);
      ctes.add(new Cte(tokens.get(nameAt).value(), i, bodyEnd, scopeEnd, recursive));
      cteNames.add(tokens.get(nameAt).value());
      consumed.add(nameAt);
      i = bodyEnd + 1;
      // SEARCH … and CYCLE … clauses may follow; the next CTE follows a comma.
      while (i < tokens.size()
          && !(tokens.get(i).depth() == depth
              && (tokens.get(i).isPunctuation(",") || isStatementWord(tokens.get(i))))) {
        i++;
      }
      if (i >= tokens.size() || !tokens.get(i).isPunctuation(",")) {
        return;
      }
      i++;
    }
  }

  private static boolean isStatementWord(Token token) {
    return token.isWord("select")
        || token.isWord("insert")
        || token.isWord("update")
        || token.isWord("delete")
        || token.isWord("merge")
        || token.isWord("values")
        || token.isWord("table")
        || token.isPunctuation("(");
  }

  /** The index of the parenthesis closing the one at {@code open}. */
  private int closing(int open) {
    int depth = tokens.get(open).depth();
    for (int k = open + 1; k < tokens.size(); k++) {
      if (tokens.get(k).isPunctuation(")") && tokens.get(k).depth() == depth) {
        return k;
      }
    }
    return tokens.size();
  }

  /** The index where the group holding {@code at} (at {@code depth}) ends. */
  private int groupEnd(int at, int depth) {
    for (int k = at + 1; k < tokens.size(); k++) {
      if (tokens.get(k).depth() < depth) {
        return k;
      }
    }
    return tokens.size();
  }

  private boolean isWriteList(int depth) {
    String statement = statementAtDepth.get(depth);
    return ddl || "truncate".equals(statement);
  }

  private void word(int i, Token token) {
    int depth = token.depth();
    String word = token.value();
    Token before = i > 0 ? tokens.get(i - 1) : null;
    int cases = openCases.getOrDefault(depth, 0);
    if (word.equals("case")) {
      openCases.put(depth, cases + 1);
    } else if (word.equals("end") && cases > 0) {
      openCases.put(depth, cases - 1);
    }
    // FROM a JOIN b ON CASE WHEN … THEN … END, c goes on with c.
    boolean caseBranch = cases > 0 && (word.equals("when") || word.equals("then"));
    if (CLAUSE_WORDS.contains(word) && !caseBranch) {
      relationListAtDepth.put(depth, false);
    }
    switch (word) {
      case "select", "values" -> {
        // In GRANT SELECT, … ON t the word names a privilege, not a query: t is what is granted.
        if (!(ddl && isAfter(before, "grant", "revoke", ","))) {
          statementAtDepth.put(depth, "select");
        }
      }
      case "insert" -> {
        if (!isAfter(before, "do", "then")) {
          statementAtDepth.put(depth, "insert");
          writeKinds.add(StatementKind.INSERT);
        }
      }
      case "update" -> {
        if (isAfter(before, "for", "of", "key", "no")) {
          lockingRead = true;
        } else if (!isAfter(before, "do", "then", "on")) {
          statementAtDepth.put(depth, "update");
          writeKinds.add(StatementKind.UPDATE);
          updatesAndDeletes.add(i);
          relation(i + 1, true);
        }
      }
      case "share" -> {
        if (isAfter(before, "for", "key")) {
          lockingRead = true;
        }
      }
      case "delete" -> {
        if (!isAfter(before, "on", "then")) {
          statementAtDepth.put(depth, "delete");
          writeKinds.add(StatementKind.DELETE);
          updatesAndDeletes.add(i);
        }
      }
      case "merge" -> {
        statementAtDepth.put(depth, "merge");
        writeKinds.add(StatementKind.MERGE);
      }
      case "truncate" -> {
        statementAtDepth.put(depth, "truncate");
        writeKinds.add(StatementKind.TRUNCATE);
        relationListAtDepth.put(depth, true);
        relation(skip(i + 1, "table"), true);
      }
      case "lock" -> {
        statementAtDepth.put(depth, "lock");
        relationListAtDepth.put(depth, true);
        relation(skip(i + 1, "table"), false);
      }
      case "from" -> from(i, before, depth);
      case "with" -> with(i);
      case "join" -> relation(i + 1, false);
      case "using" -> {
        String statement = statementAtDepth.get(depth);
        if ("delete".equals(statement) || "merge".equals(statement)) {
          relationListAtDepth.put(depth, "delete".equals(statement));
          relation(i + 1, false);
        }
      }
      case "into" -> {
        String statement = statementAtDepth.get(depth);
        if ("insert".equals(statement) || "merge".equals(statement)) {
          relation(i + 1, true);
        } else if ("select".equals(statement)) {
          selectInto = true;
          relation(skip(skip(skip(i + 1, "temporary"), "temp"), "unlogged", "table"), true);
        }
      }
      case "table" -> {
        if (ddl) {
          relationListAtDepth.put(depth, true);
          relation(skip(i + 1, "if", "not", "exists"), true);
        } else if (!isAfter(before, "truncate", "lock")) {
          statementAtDepth.put(depth, "select");
          relation(i + 1, false);
        }
      }
      case "view", "sequence" -> {
        if (ddl) {
          relationListAtDepth.put(depth, true);
          relation(skip(i + 1, "if", "not", "exists"), true);
        }
      }
      case "on" -> {
        if (ddl && !"select".equals(statementAtDepth.get(depth))) {
          relation(skip(i + 1, "table", "only"), true);
        }
      }
      default -> {}
    }
  }

  /** FROM starts a relation list unless it is part of an expression or a COPY. */
  private void from(int i, Token before, int depth) {
    String statement = statementAtDepth.get(depth);
    if (statement == null && !ddl) {
      // extract(x FROM y), substring(s FROM 2), trim(… FROM s), IS DISTINCT FROM, COPY t FROM
      return;
    }
    if (isAfter(before, "distinct") && i >= 2 && tokens.get(i - 2).isWord("is")) {
      return;
    }
    relationListAtDepth.put(depth, true);
    relation(i + 1, "delete".equals(statement));
  }

  /**
   * Reads a relation name at {@code at} (skipping ONLY, LATERAL and opening parentheses); a name
   * followed by a parenthesis is a function in FROM.
   */
  private void relation(int at, boolean write) {
    at = skip(at, "only", "lateral");
    if (!write) {
      // FROM (a JOIN b ON …) and ONLY (a) start with a relation; a sub-query is walked anyway.
      while (at < tokens.size() && tokens.get(at).isPunctuation("(")) {
        at++;
      }
      if (at < tokens.size()
          && (tokens.get(at).isWord("select")
              || tokens.get(at).isWord("values")
              || tokens.get(at).isWord("with")
              || tokens.get(at).isWord("table"))) {
        return;
      }
    }
    int end = nameEnd(tokens, at);
    if (end < 0) {
      return;
    }
    String name = qualifiedName(tokens, at, end);
    for (int k = at; k < end; k++) {
      consumed.add(k);
    }
    if (!write && end < tokens.size() && tokens.get(end).isPunctuation("(")) {
      functions.add(name);
      return;
    }
    if (write) {
      written.add(name);
    } else {
      readReferences.add(new RelationReference(name, at));
    }
    // An alias: [AS] name, not a keyword.
    int alias = skip(end, "as");
    if (alias < tokens.size()
        && tokens.get(alias).isName()
        && !(tokens.get(alias).type() == Token.Type.WORD
            && KEYWORDS.contains(tokens.get(alias).value()))) {
      aliases.add(tokens.get(alias).value());
      consumed.add(alias);
    }
  }

  /** The index after a dotted name starting at {@code at}, or -1 if no name starts there. */
  static int nameEnd(List<Token> tokens, int at) {
    if (at >= tokens.size() || !tokens.get(at).isName()) {
      return -1;
    }
    int end = at + 1;
    while (end + 1 < tokens.size()
        && tokens.get(end).isPunctuation(".")
        && tokens.get(end + 1).isName()) {
      end += 2;
    }
    return end;
  }

  /** {@code schema.name} for a qualified name (a database prefix is dropped), else the name. */
  static String qualifiedName(List<Token> tokens, int at, int end) {
    List<String> parts = new ArrayList<>();
    for (int k = at; k < end; k += 2) {
      parts.add(tokens.get(k).value());
    }
    int size = parts.size();
    return size == 1 ? parts.get(0) : parts.get(size - 2) + "." + parts.get(size - 1);
  }

  /** Functions (names before a parenthesis) and columns (every other non-keyword name). */
  private void names() {
    for (int i = 0; i < tokens.size(); i++) {
      if (consumed.contains(i) || !tokens.get(i).isName()) {
        continue;
      }
      int end = nameEnd(tokens, i);
      String name = qualifiedName(tokens, i, end);
      boolean keyword =
          end == i + 1
              && tokens.get(i).type() == Token.Type.WORD
              && KEYWORDS.contains(tokens.get(i).value());
      boolean call = end < tokens.size() && tokens.get(end).isPunctuation("(");
      Token before = i > 0 ? tokens.get(i - 1) : null;
      if (before != null && before.isPunctuation(".")) {
        // (x).f, x[1].f and $1.f select a field, or call f(x): PostgreSQL's attribute notation.
        for (int k = i; k < end; k += 2) {
          functions.add(tokens.get(k).value());
        }
      }
      if (call
          && !(end == i + 1 && NOT_FUNCTIONS.contains(tokens.get(i).value()))
          && !(before != null && (before.isPunctuation("::") || before.isWord("as")))) {
        functions.add(name);
      } else if (!keyword) {
        columns.add(name);
        if (end > i + 1) {
          columns.add(tokens.get(end - 1).value());
        }
      }
      i = end - 1;
    }
  }

  private boolean isAfter(Token before, String... words) {
    if (before == null) {
      return false;
    }
    for (String word : words) {
      if (before.isWord(word)) {
        return true;
      }
    }
    return false;
  }

  /** Skips any of {@code words} at {@code at}, in any order. */
  private int skip(int at, String... words) {
    boolean moved = true;
    while (moved && at < tokens.size()) {
      moved = false;
      for (String word : words) {
        if (tokens.get(at).isWord(word)) {
          at++;
          moved = true;
          break;
        }
      }
    }
    return at;
  }

  /** Names that refer to a table's whole row (its name or alias used as a value). */
  boolean wholeRowReference() {
    for (String column : columns) {
      if (aliases.contains(column)
          || read.contains(column)
          || written.contains(column)
          || cteNames.contains(column)) {
        return true;
      }
    }
    return false;
  }
}
