package io.portcullis.policy.sql;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.UnsupportedStatement;

/**
 * Tells policy what each statement of a query string does. The lexer ({@link SqlLexer}) has the
 * last word: it splits statements, classifies them by their leading keywords and finds every
 * relation, function and column name at any depth ({@link TokenWalk}). JSqlParser then has to
 * accept the data statements (SELECT, INSERT, UPDATE, DELETE, MERGE) within a time limit; what it
 * cannot parse is {@link StatementKind#UNPARSED}, never guessed at (the analysis keeps the kinds,
 * relations, functions and signals the walk found, for deny rules to apply). Its own table list is
 * not used: it drops tables in several clauses and under CTEs of the same name.
 *
 * <p>Analyses are cached by the statement's shape (its tokens with constants replaced), so the
 * parser runs once per distinct statement, not once per execution.
 */
public final class SqlAnalyzer {

  /** Longest statement analysed; longer ones are unparsed (PostgreSQL allows 1 GB). */
  public static final int MAX_STATEMENT_CHARS = 1_000_000;

  static final int MAX_DEPTH = 64;

  /**
   * How deep EXPLAIN, PREPARE and DECLARE may nest statements in one another: each level recurses,
   * and a long chain of them would overflow the stack.
   */
  private static final int MAX_NESTED_STATEMENTS = 4;

  /**
   * Functions that change data although called from a read: a SELECT calling them is not read-only.
   */
  private static final Set<String> WRITING_FUNCTIONS =
      Set.of(
          "nextval",
          "setval",
          "pg_notify",
          "lo_create",
          "lo_creat",
          "lo_unlink",
          "lo_put",
          "lo_from_bytea");

  private static final long PARSE_TIMEOUT_MILLIS = 200;
  private static final String TOO_COMPLEX =
      "the statement is too complex for the policy engine to parse in ";
  private static final int CACHE_ENTRIES = 10_000;

  private static final ExecutorService PARSER =
      Executors.newCachedThreadPool(
          runnable -> {
            Thread thread = new Thread(runnable, "portcullis-sql-parser");
            thread.setDaemon(true);
            return thread;
          });

  private final Map<String, StatementAnalysis> cache = new ConcurrentHashMap<>();

  /** Every statement of {@code sql}, analysed; a query string that does not lex is one unparsed. */
  public List<StatementAnalysis> analyze(String sql, boolean standardConformingStrings) {
    if (sql.length() > MAX_STATEMENT_CHARS) {
      return List.of(
          StatementAnalysis.unparsed(
              sql,
              "the statement is "
                  + sql.length()
                  + " characters long; the policy engine reads at most "
                  + MAX_STATEMENT_CHARS));
    }
    List<LexedStatement> statements;
    try {
      statements = SqlLexer.split(sql, standardConformingStrings);
    } catch (SqlSyntaxException e) {
      return List.of(StatementAnalysis.unparsed(sql, e.getMessage()));
    }
    List<StatementAnalysis> analyses = new ArrayList<>(statements.size());
    for (LexedStatement statement : statements) {
      StatementAnalysis analysis = analyze(statement);
      analyses.add(
          statements.size() > 1 ? analysis.withSignal(RiskSignal.MULTIPLE_STATEMENTS) : analysis);
    }
    return analyses;
  }

  StatementAnalysis analyze(LexedStatement statement) {
    String shape = statement.shape();
    StatementAnalysis cached = cache.get(shape);
    if (cached != null) {
      return cached.withText(statement.text());
    }
    StatementAnalysis analysis = new Classifier(statement).analysis();
    if (analysis.unparsedReason().filter(r -> r.startsWith(TOO_COMPLEX)).isPresent()) {
      // A timeout may come from a busy machine, not from the statement: judge it afresh next time.
      return analysis;
    }
    if (cache.size() >= CACHE_ENTRIES) {
      cache.clear();
    }
    cache.put(shape, analysis);
    return analysis;
  }

  /** Classifies one statement by its leading keywords and walks its tokens. */
  private static final class Classifier {
    private final LexedStatement statement;
    private final List<Token> tokens;
    private final boolean tooDeep;
    private int nestedStatements;

    Classifier(LexedStatement statement) {
      this.statement = statement;
      this.tokens = statement.tokens();
      this.tooDeep = tokens.stream().anyMatch(token -> token.depth() > MAX_DEPTH);
    }

    StatementAnalysis analysis() {
      return classify(0);
    }

    private StatementAnalysis classify(int from) {
      if (from > 0 && ++nestedStatements > MAX_NESTED_STATEMENTS) {
        return unparsed("statements are nested in EXPLAIN, PREPARE or DECLARE too deeply");
      }
      Token first = tokens.get(from);
      if (first.isPunctuation("(")) {
        return data(from, StatementKind.SELECT);
      }
      if (first.type() != Token.Type.WORD) {
        return unparsed("a statement cannot start with " + first.value());
      }
      String word = first.value();
      return switch (word) {
        case "select", "values", "table" -> data(from, StatementKind.SELECT);
        case "with" -> data(from, mainKindAfterWith(from));
        case "insert" -> data(from, StatementKind.INSERT);
        case "update" -> data(from, StatementKind.UPDATE);
        case "delete" -> data(from, StatementKind.DELETE);
        case "merge" -> data(from, StatementKind.MERGE);
        case "truncate" -> walked(from, StatementKind.TRUNCATE, false);
        case "create",
                "alter",
                "drop",
                "grant",
                "revoke",
                "comment",
                "security",
                "refresh",
                "import",
                "reassign",
                "load" ->
            walked(from, StatementKind.DDL, true);
        case "copy" -> copy(from);
        case "call" -> walked(from, StatementKind.CALL, false);
        case "do" -> simple(StatementKind.DO);
        case "set" -> set(from);
        case "reset" -> setting(StatementKind.SET, settingName(from + 1));
        case "show" -> setting(StatementKind.SHOW, settingName(from + 1));
        case "begin", "start", "commit", "end", "rollback", "abort", "savepoint", "release" ->
            simple(StatementKind.TRANSACTION);
        case "prepare" -> prepare(from);
        case "execute" -> execute(from);
        case "declare" -> declare(from);
        case "fetch", "move", "close" -> simple(StatementKind.CURSOR);
        case "explain" -> explain(from);
        case "listen", "unlisten", "notify" -> simple(StatementKind.NOTIFY);
        case "deallocate", "discard" -> simple(StatementKind.SESSION);
        case "vacuum", "analyze", "analyse", "cluster", "reindex", "checkpoint" ->
            walked(from, StatementKind.MAINTENANCE, false);
        case "lock" -> walked(from, StatementKind.LOCK, false);
        default ->
            unparsed(
                "statements starting with "
                    + word.toUpperCase(java.util.Locale.ROOT)
                    + " are not understood by the policy engine");
      };
    }

    /** The statement after a WITH list: the first statement word at the WITH's depth. */
    private StatementKind mainKindAfterWith(int from) {
      int depth = tokens.get(from).depth();
      for (int i = from + 1; i < tokens.size(); i++) {
        Token token = tokens.get(i);
        if (token.depth() != depth || token.type() != Token.Type.WORD) {
          continue;
        }
        Token before = tokens.get(i - 1);
        boolean cteName =
            before.isWord("with") || before.isWord("recursive") || before.isPunctuation(",");
        if (cteName) {
          continue;
        }
        switch (token.value()) {
          case "select", "values", "table":
            return StatementKind.SELECT;
          case "insert":
            return StatementKind.INSERT;
          case "update":
            return StatementKind.UPDATE;
          case "delete":
            return StatementKind.DELETE;
          case "merge":
            return StatementKind.MERGE;
          default:
            break;
        }
      }
      return StatementKind.SELECT;
    }

    /**
     * A data statement: walked, then checked by the SQL parser. What the parser refuses is
     * unparsed, but keeps what the walk saw, so that deny rules still apply to it.
     */
    private StatementAnalysis data(int from, StatementKind kind) {
      StatementAnalysis walked = walked(from, kind, false);
      Optional<String> problem =
          tooDeep
              ? Optional.of("parentheses are nested more than " + MAX_DEPTH + " levels deep")
              : parse(parserText(from));
      if (problem.isEmpty()) {
        return walked;
      }
      Set<StatementKind> kinds = EnumSet.of(StatementKind.UNPARSED);
      kinds.addAll(walked.kinds());
      return new StatementAnalysis(
          statement.text(),
          kinds,
          walked.tablesRead(),
          walked.tablesWritten(),
          walked.columns(),
          walked.functions(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          walked.signals(),
          problem);
    }

    /**
     * The statement from token {@code from} on, for the SQL parser, with every string constant
     * emptied: the parser does not read every form of them ({@code E'\''}, {@code $tag$…$tag$}),
     * and their content does not matter to it.
     */
    private String parserText(int from) {
      String text = statement.text();
      StringBuilder parserText = new StringBuilder(text.length());
      int copied = tokens.get(from).start();
      for (int i = from; i < tokens.size(); i++) {
        Token token = tokens.get(i);
        if (token.type() == Token.Type.STRING) {
          parserText.append(text, copied, token.start()).append("''");
          copied = token.start() + token.value().length();
        }
      }
      return parserText.append(text, copied, text.length()).toString();
    }

    private StatementAnalysis walked(int from, StatementKind kind, boolean ddl) {
      TokenWalk walk = new TokenWalk(tokens.subList(from, tokens.size()), ddl).run();
      Set<StatementKind> kinds = EnumSet.of(kind);
      Set<RiskSignal> signals = EnumSet.noneOf(RiskSignal.class);
      if (kind == StatementKind.SELECT || kind == StatementKind.COPY_OUT) {
        if (!walk.writeKinds.isEmpty()
            || walk.selectInto
            || walk.lockingRead
            || walk.functions.stream().anyMatch(SqlAnalyzer::writes)) {
          signals.add(RiskSignal.WRITES_IN_READ);
        }
      }
      kinds.addAll(walk.writeKinds);
      if (walk.selectInto) {
        // SELECT … INTO creates a table, as CREATE TABLE … AS does.
        kinds.add(StatementKind.DDL);
      }
      if (!ddl && walk.unboundedWrite) {
        signals.add(RiskSignal.NO_WHERE);
      }
      Set<String> columns = new java.util.LinkedHashSet<>(walk.columns);
      if (walk.star || walk.wholeRowReference()) {
        columns.add("*");
      }
      return new StatementAnalysis(
          statement.text(),
          kinds,
          walk.read,
          walk.written,
          columns,
          walk.functions,
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          signals,
          Optional.empty());
    }

    /** COPY t FROM …, COPY t TO …, COPY (query) TO …; a file or PROGRAM is server-side I/O. */
    private StatementAnalysis copy(int from) {
      int depth = tokens.get(from).depth();
      for (int i = from + 1; i < tokens.size(); i++) {
        Token token = tokens.get(i);
        if (token.depth() != depth || !(token.isWord("from") || token.isWord("to"))) {
          continue;
        }
        boolean in = token.isWord("from");
        StatementAnalysis walked =
            walked(from, in ? StatementKind.COPY_IN : StatementKind.COPY_OUT, false);
        Set<String> read = new java.util.LinkedHashSet<>(walked.tablesRead());
        Set<String> written = new java.util.LinkedHashSet<>(walked.tablesWritten());
        // COPY BINARY t is the syntax of PostgreSQL before 7.3, which it still accepts.
        int table = tokens.get(from + 1).isWord("binary") ? from + 2 : from + 1;
        int tableEnd = TokenWalk.nameEnd(tokens, table);
        if (tableEnd > table) {
          (in ? written : read).add(TokenWalk.qualifiedName(tokens, table, tableEnd));
        }
        Set<RiskSignal> signals = EnumSet.noneOf(RiskSignal.class);
        signals.addAll(walked.signals());
        Token target = i + 1 < tokens.size() ? tokens.get(i + 1) : null;
        if (target == null || !(target.isWord("stdin") || target.isWord("stdout"))) {
          signals.add(RiskSignal.SERVER_SIDE_IO);
        }
        Set<String> columns = new java.util.LinkedHashSet<>(walked.columns());
        if (!in
            && tableEnd > table
            && !(tableEnd < tokens.size() && tokens.get(tableEnd).isPunctuation("("))) {
          columns.add("*");
        }
        return new StatementAnalysis(
            statement.text(),
            walked.kinds(),
            read,
            written,
            columns,
            walked.functions(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            signals,
            Optional.empty());
      }
      return unparsed("COPY without FROM or TO");
    }

    /** SET [SESSION | LOCAL] name …, SET ROLE, SET SESSION AUTHORIZATION, SET TRANSACTION. */
    private StatementAnalysis set(int from) {
      int at = from + 1;
      if (at < tokens.size()
          && (tokens.get(at).isWord("session") || tokens.get(at).isWord("local"))) {
        if (tokens.get(at).isWord("session")
            && at + 1 < tokens.size()
            && tokens.get(at + 1).isWord("authorization")) {
          return setting(StatementKind.SET, Optional.of("session_authorization"));
        }
        at++;
      }
      if (at < tokens.size()
          && (tokens.get(at).isWord("transaction") || tokens.get(at).isWord("constraints"))) {
        return simple(StatementKind.TRANSACTION);
      }
      return setting(StatementKind.SET, settingName(at));
    }

    /** The parameter's name, lower case: the server looks parameters up ignoring case. */
    private Optional<String> settingName(int at) {
      if (at >= tokens.size() || !tokens.get(at).isName()) {
        return Optional.empty();
      }
      String name = tokens.get(at).value().toLowerCase(java.util.Locale.ROOT);
      if (name.equals("time") && at + 1 < tokens.size() && tokens.get(at + 1).isWord("zone")) {
        return Optional.of("timezone");
      }
      if (name.equals("names")) {
        return Optional.of("client_encoding");
      }
      if (name.equals("schema")) {
        return Optional.of("search_path");
      }
      if (name.equals("session")
          && at + 1 < tokens.size()
          && tokens.get(at + 1).isWord("authorization")) {
        return Optional.of("session_authorization");
      }
      if (at + 2 < tokens.size()
          && tokens.get(at + 1).isPunctuation(".")
          && tokens.get(at + 2).isName()) {
        return Optional.of(
            name + "." + tokens.get(at + 2).value().toLowerCase(java.util.Locale.ROOT));
      }
      return Optional.of(name);
    }

    private StatementAnalysis setting(StatementKind kind, Optional<String> name) {
      if (name.isEmpty()) {
        return unparsed(kind + " without a parameter name");
      }
      return new StatementAnalysis(
          statement.text(),
          Set.of(kind),
          Set.of(),
          Set.of(),
          Set.of(),
          Set.of(),
          name,
          Optional.empty(),
          Optional.empty(),
          Set.of(),
          Optional.empty());
    }

    /** PREPARE name [(types)] AS statement: the statement's analysis, under the name. */
    private StatementAnalysis prepare(int from) {
      if (from + 1 < tokens.size() && tokens.get(from + 1).isWord("transaction")) {
        return simple(StatementKind.TRANSACTION);
      }
      int as = indexOfWordAtDepth(from, "as");
      if (as < 0 || as + 1 >= tokens.size() || !tokens.get(from + 1).isName()) {
        return unparsed("PREPARE without a name and AS statement");
      }
      StatementAnalysis inner = classify(as + 1);
      return inner.isUnparsed() ? inner : named(inner, tokens.get(from + 1).value());
    }

    /** DECLARE name … CURSOR … FOR query: the query's analysis, under the cursor's name. */
    private StatementAnalysis declare(int from) {
      int forAt = indexOfWordAtDepth(from, "for");
      if (forAt < 0 || forAt + 1 >= tokens.size() || !tokens.get(from + 1).isName()) {
        return unparsed("DECLARE without a cursor name and FOR query");
      }
      StatementAnalysis inner = classify(forAt + 1);
      return inner.isUnparsed() ? inner : named(inner, tokens.get(from + 1).value());
    }

    private StatementAnalysis named(StatementAnalysis inner, String name) {
      return new StatementAnalysis(
          statement.text(),
          inner.kinds(),
          inner.tablesRead(),
          inner.tablesWritten(),
          inner.columns(),
          inner.functions(),
          Optional.empty(),
          Optional.of(name),
          Optional.empty(),
          inner.signals(),
          Optional.empty());
    }

    /** EXECUTE name: what it does is what the PREPARE of that name did, known to the session. */
    private StatementAnalysis execute(int from) {
      if (from + 1 >= tokens.size() || !tokens.get(from + 1).isName()) {
        return unparsed("EXECUTE without a statement name");
      }
      String name = tokens.get(from + 1).value();
      return new StatementAnalysis(
          statement.text(),
          Set.of(StatementKind.UNPARSED),
          Set.of(),
          Set.of(),
          Set.of(),
          Set.of(),
          Optional.empty(),
          Optional.empty(),
          Optional.of(name),
          Set.of(),
          Optional.of(
              "EXECUTE "
                  + name
                  + " runs a statement prepared earlier in the session; it is judged as that"
                  + " PREPARE was"));
    }

    /** EXPLAIN [ANALYZE] [VERBOSE] | EXPLAIN (options) statement. */
    private StatementAnalysis explain(int from) {
      int at = from + 1;
      boolean analyze = false;
      if (at < tokens.size() && tokens.get(at).isPunctuation("(")) {
        int depth = tokens.get(at).depth();
        at++;
        while (at < tokens.size()
            && !(tokens.get(at).isPunctuation(")") && tokens.get(at).depth() == depth)) {
          Token token = tokens.get(at);
          if (token.isWord("analyze") || token.isWord("analyse")) {
            // Only the words turn it off: a constant (ANALYZE 0) could not, since analyses are
            // cached by shape, where ANALYZE 0 and ANALYZE 1 are the same.
            Token value = at + 1 < tokens.size() ? tokens.get(at + 1) : null;
            analyze = value == null || !(value.isWord("false") || value.isWord("off"));
          }
          at++;
        }
        at++;
      } else {
        while (at < tokens.size()
            && (tokens.get(at).isWord("analyze")
                || tokens.get(at).isWord("analyse")
                || tokens.get(at).isWord("verbose"))) {
          analyze |= !tokens.get(at).isWord("verbose");
          at++;
        }
      }
      if (at >= tokens.size()) {
        return unparsed("EXPLAIN without a statement");
      }
      StatementAnalysis inner = classify(at);
      if (inner.isUnparsed()) {
        return inner;
      }
      Set<StatementKind> kinds = EnumSet.of(StatementKind.EXPLAIN);
      if (analyze) {
        kinds.addAll(inner.kinds());
      }
      return new StatementAnalysis(
          statement.text(),
          kinds,
          inner.tablesRead(),
          inner.tablesWritten(),
          inner.columns(),
          inner.functions(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          inner.signals(),
          Optional.empty());
    }

    private int indexOfWordAtDepth(int from, String word) {
      int depth = tokens.get(from).depth();
      for (int i = from + 1; i < tokens.size(); i++) {
        if (tokens.get(i).depth() == depth && tokens.get(i).isWord(word)) {
          return i;
        }
      }
      return -1;
    }

    private StatementAnalysis simple(StatementKind kind) {
      return StatementAnalysis.of(statement.text(), kind);
    }

    private StatementAnalysis unparsed(String reason) {
      return StatementAnalysis.unparsed(statement.text(), reason);
    }
  }

  private static boolean writes(String function) {
    return WRITING_FUNCTIONS.contains(function.substring(function.lastIndexOf('.') + 1));
  }

  /**
   * Runs JSqlParser on a statement with a time limit (some inputs make it take exponential time).
   * Returns why it could not, or nothing when it parsed.
   */
  private static Optional<String> parse(String sql) {
    CCJSqlParser parser = CCJSqlParserUtil.newParser(sql);
    Future<Statement> parsing = PARSER.submit(parser::Statement);
    Statement parsed;
    try {
      parsed = parsing.get(PARSE_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      // JSqlParser ignores interrupts but checks this flag; without it, it would run on for
      // minutes.
      parser.interrupted = true;
      parsing.cancel(true);
      return Optional.of(TOO_COMPLEX + PARSE_TIMEOUT_MILLIS + " ms");
    } catch (ExecutionException e) {
      String message = String.valueOf(e.getCause().getMessage());
      int newline = message.indexOf('\n');
      return Optional.of(
          "the policy engine's SQL parser does not understand this statement ("
              + (newline > 0 ? message.substring(0, newline) : message)
              + "); rewrite it in a simpler form or ask for a policy rule for unparsed statements");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted while parsing");
    }
    if (parsed == null || parsed instanceof UnsupportedStatement) {
      return Optional.of("the policy engine's SQL parser does not support this form of statement");
    }
    return Optional.empty();
  }
}
