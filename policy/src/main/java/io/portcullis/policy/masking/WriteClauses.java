package io.portcullis.policy.masking;

import io.portcullis.policy.sql.Token;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What a statement's writes take from the rows they write, read from its tokens: the {@code SET}
 * lists of {@code UPDATE} (also in a WITH query, or in a rule's action), of {@code INSERT … ON
 * CONFLICT … DO UPDATE} and of {@code MERGE … THEN UPDATE}, and the RETURNING lists of writes in
 * WITH queries, which hand their rows to the rest of the statement.
 *
 * @param assignments every assignment, at any depth
 * @param returnedInWith the RETURNING lists of writes inside parentheses (WITH queries)
 * @param rowNames the names and aliases of the relations the statement writes: in a value, such a
 *     name alone (or followed by {@code .*}) is a whole row of that relation
 * @param writes how many INSERT, UPDATE, DELETE and MERGE statements it holds
 */
record WriteClauses(
    List<Assignment> assignments,
    List<List<Token>> returnedInWith,
    Set<String> rowNames,
    int writes) {

  /** Words that end a SET list at its depth (outside a CASE). */
  private static final Set<String> AFTER_SET = Set.of("from", "where", "returning", "when");

  /** Words after a written relation's name that are not its alias. */
  private static final Set<String> NOT_ALIASES = Set.of("set", "using", "where", "returning");

  /**
   * One assignment.
   *
   * @param targets the columns assigned: one, or several for {@code SET (a, b) = …}
   * @param value the tokens the value is computed from (with any subscripts of the targets)
   * @param upsert whether it is in an {@code ON CONFLICT … DO UPDATE}, where {@code excluded} is
   *     the row the statement proposes
   */
  record Assignment(List<String> targets, List<Token> value, boolean upsert) {

    /**
     * The name in the value that reads {@code column} of a written relation: the column itself
     * (qualified or not, but not as {@code excluded.column} in an upsert), or a name of {@code
     * rowNames} standing for a whole row.
     */
    Optional<String> reads(String column, Set<String> rowNames) {
      return WriteClauses.reads(value, column, rowNames, upsert);
    }
  }

  /**
   * What a RETURNING list in a WITH query returns of {@code column}: the column by name, or a whole
   * row ({@code *}, a written relation's name or alias, or PostgreSQL 18's {@code old} and {@code
   * new}).
   */
  Optional<String> returnedInWith(String column) {
    Set<String> rows = new HashSet<>(rowNames);
    rows.add("old");
    rows.add("new");
    for (List<Token> list : returnedInWith) {
      for (int i = 0; i < list.size(); i++) {
        Token token = list.get(i);
        if (token.type() == Token.Type.OPERATOR
            && token.value().equals("*")
            && (i == 0
                || list.get(i - 1).isPunctuation(",")
                || list.get(i - 1).isPunctuation("."))) {
          return Optional.of("*");
        }
      }
      Optional<String> read = reads(list, column, rows, false);
      if (read.isPresent()) {
        return read;
      }
    }
    return Optional.empty();
  }

  private static Optional<String> reads(
      List<Token> tokens, String column, Set<String> rowNames, boolean upsert) {
    for (int i = 0; i < tokens.size(); i++) {
      Token token = tokens.get(i);
      if (!token.isName()) {
        continue;
      }
      if (token.value().equals(column) && !(upsert && qualifiedByExcluded(tokens, i))) {
        return Optional.of(column);
      }
      boolean qualifies =
          i + 2 < tokens.size()
              && tokens.get(i + 1).isPunctuation(".")
              && tokens.get(i + 2).isName();
      if (rowNames.contains(token.value()) && !qualifies) {
        return Optional.of(token.value());
      }
    }
    return Optional.empty();
  }

  private static boolean qualifiedByExcluded(List<Token> tokens, int i) {
    return i >= 2
        && tokens.get(i - 1).isPunctuation(".")
        && tokens.get(i - 2).isName()
        && tokens.get(i - 2).value().equals("excluded")
        && !(i >= 3 && tokens.get(i - 3).isPunctuation("."));
  }

  static WriteClauses of(List<Token> tokens) {
    Reader reader = new Reader(tokens);
    reader.read();
    return new WriteClauses(
        reader.assignments, reader.returnedInWith, reader.rowNames, reader.writes);
  }

  private static final class Reader {
    private final List<Token> tokens;
    private final List<Assignment> assignments = new ArrayList<>();
    private final List<List<Token>> returnedInWith = new ArrayList<>();
    private final Set<String> rowNames = new HashSet<>();
    private int writes;

    Reader(List<Token> tokens) {
      this.tokens = tokens;
    }

    void read() {
      for (int i = 0; i < tokens.size(); i++) {
        Token token = tokens.get(i);
        if ((token.isWord("insert") || token.isWord("merge")) && isWord(i + 1, "into")) {
          writes++;
          relation(i + 2, token.isWord("insert"), rowNames);
        } else if (token.isWord("delete") && isWord(i + 1, "from")) {
          writes++;
          relation(i + 2, false, rowNames);
        } else if (token.isWord("returning") && token.depth() > 0) {
          int end = i + 1;
          while (end < tokens.size() && tokens.get(end).depth() >= token.depth()) {
            end++;
          }
          returnedInWith.add(tokens.subList(i + 1, end));
        } else if (token.isWord("update")) {
          if (isWord(i + 1, "set")) {
            // ON CONFLICT … DO UPDATE SET, MERGE … THEN UPDATE SET: the relation was named before.
            set(i + 1, i > 0 && tokens.get(i - 1).isWord("do"));
          } else {
            // Only UPDATE name [[AS] alias] SET is a statement (not FOR UPDATE, GRANT UPDATE, …).
            List<String> names = new ArrayList<>();
            int set = relation(i + 1, false, names);
            if (isWord(set, "set")) {
              writes++;
              rowNames.addAll(names);
              set(set, false);
            }
          }
        }
      }
    }

    /**
     * Reads {@code [ONLY] name [*] [[AS] alias]} at {@code at} (an INSERT's alias needs AS), adding
     * the name's last part and the alias to {@code names}; returns the index after it.
     */
    private int relation(int at, boolean insert, Collection<String> names) {
      if (isWord(at, "only")) {
        at++;
      }
      if (at >= tokens.size() || !tokens.get(at).isName()) {
        return at;
      }
      while (at + 2 < tokens.size()
          && tokens.get(at + 1).isPunctuation(".")
          && tokens.get(at + 2).isName()) {
        at += 2;
      }
      names.add(tokens.get(at).value());
      at++;
      if (at < tokens.size()
          && tokens.get(at).type() == Token.Type.OPERATOR
          && tokens.get(at).value().equals("*")) {
        at++;
      }
      boolean as = isWord(at, "as");
      if (as) {
        at++;
      }
      if ((as || !insert)
          && at < tokens.size()
          && tokens.get(at).isName()
          && !(tokens.get(at).type() == Token.Type.WORD
              && NOT_ALIASES.contains(tokens.get(at).value()))) {
        names.add(tokens.get(at).value());
        at++;
      }
      return at;
    }

    /** Reads the assignments after the SET at {@code set}. */
    private void set(int set, boolean upsert) {
      int depth = tokens.get(set).depth();
      int at = set + 1;
      while (at < tokens.size() && tokens.get(at).depth() == depth) {
        List<String> targets = new ArrayList<>();
        List<Token> subscripts = new ArrayList<>();
        at = targets(at, depth, targets, subscripts);
        int end = valueEnd(at, depth);
        List<Token> value = tokens.subList(at, end);
        List<List<Token>> elements = rowElements(value, depth);
        if (targets.size() > 1 && elements.size() == targets.size()) {
          for (int k = 0; k < targets.size(); k++) {
            assignments.add(
                new Assignment(List.of(targets.get(k)), join(elements.get(k), subscripts), upsert));
          }
        } else {
          assignments.add(new Assignment(targets, join(value, subscripts), upsert));
        }
        if (end >= tokens.size() || !tokens.get(end).isPunctuation(",")) {
          return;
        }
        at = end + 1;
      }
    }

    /**
     * Reads {@code column[…] =} or {@code (a, b[…]) =} at {@code at}: the column names go to {@code
     * targets}, every other token before the {@code =} (subscripts, fields) to {@code subscripts}.
     * Returns the index after the {@code =}.
     */
    private int targets(int at, int depth, List<String> targets, List<Token> subscripts) {
      boolean list = tokens.get(at).isPunctuation("(");
      if (list) {
        at++;
      }
      boolean columnNext = true;
      for (; at < tokens.size(); at++) {
        Token token = tokens.get(at);
        if (token.depth() == depth
            && token.type() == Token.Type.OPERATOR
            && token.value().equals("=")) {
          return at + 1;
        }
        if (list && token.depth() == depth + 1 && token.isPunctuation(",")) {
          columnNext = true;
        } else if (columnNext && token.isName()) {
          targets.add(token.value());
          columnNext = false;
        } else if (!(list && token.depth() == depth && token.isPunctuation(")"))) {
          subscripts.add(token);
          columnNext = false;
        }
      }
      return at;
    }

    /** The index of the token that ends the value starting at {@code at}. */
    private int valueEnd(int at, int depth) {
      int cases = 0;
      for (; at < tokens.size(); at++) {
        Token token = tokens.get(at);
        if (token.depth() < depth) {
          return at;
        }
        if (token.depth() > depth) {
          continue;
        }
        if (token.isPunctuation(",")) {
          return at;
        }
        if (token.isWord("case")) {
          cases++;
        } else if (token.isWord("end") && cases > 0) {
          cases--;
        } else if (cases == 0
            && token.type() == Token.Type.WORD
            && AFTER_SET.contains(token.value())
            // x IS [NOT] DISTINCT FROM y goes on
            && !(token.isWord("from") && tokens.get(at - 1).isWord("distinct"))) {
          return at;
        }
      }
      return at;
    }

    /**
     * The elements of a value that is one row constructor, {@code (a, b)} or {@code ROW(a, b)},
     * else an empty list: a sub-query's select list is not split, since its FROM may compute one
     * column from another.
     */
    private static List<List<Token>> rowElements(List<Token> value, int depth) {
      int open = !value.isEmpty() && value.get(0).isWord("row") ? 1 : 0;
      int last = value.size() - 1;
      if (last < open + 1
          || !value.get(open).isPunctuation("(")
          || !value.get(last).isPunctuation(")")) {
        return List.of();
      }
      Token first = value.get(open + 1);
      if (first.isWord("select")
          || first.isWord("with")
          || first.isWord("values")
          || first.isWord("table")) {
        return List.of();
      }
      List<List<Token>> elements = new ArrayList<>();
      int start = open + 1;
      for (int k = open + 1; k < last; k++) {
        Token token = value.get(k);
        if (token.depth() <= depth) {
          return List.of(); // the parenthesis at open closed before the end: (a) || (b)
        }
        if (token.depth() == depth + 1 && token.isPunctuation(",")) {
          elements.add(value.subList(start, k));
          start = k + 1;
        }
      }
      elements.add(value.subList(start, last));
      return elements;
    }

    private static List<Token> join(List<Token> a, List<Token> b) {
      List<Token> all = new ArrayList<>(a);
      all.addAll(b);
      return all;
    }

    private boolean isWord(int at, String word) {
      return at < tokens.size() && tokens.get(at).isWord(word);
    }
  }
}
