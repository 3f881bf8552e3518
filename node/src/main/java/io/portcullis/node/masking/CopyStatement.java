package io.portcullis.node.masking;

import io.portcullis.policy.sql.LexedStatement;
import io.portcullis.policy.sql.SqlLexer;
import io.portcullis.policy.sql.SqlSyntaxException;
import io.portcullis.policy.sql.Token;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A {@code COPY … TO STDOUT} statement as PostgreSQL 15 reads it: what it copies, a table or a
 * query, and the options that shape the rows it sends, with PostgreSQL's defaults filled in. Names
 * are folded as PostgreSQL folds them: unquoted to lower case, quoted as written.
 *
 * @param schema the table's schema, when the statement names one
 * @param table the table copied, for {@code COPY [schema.]table [(columns)]}
 * @param columns the column list of a table, empty when the statement has none (every column)
 * @param query the text between the parentheses of {@code COPY (query)}, without the blanks around
 *     it
 * @param format text, CSV or binary
 * @param header whether the first row is the column names (text and CSV)
 * @param delimiter the field separator, always one ASCII character (text and CSV)
 * @param nullString how SQL NULL is written (text and CSV)
 * @param quote the CSV quote character
 * @param escape the character that escapes a quote or itself inside a quoted CSV field
 * @param encoding the {@code ENCODING} option as written: when present the rows are in that
 *     encoding rather than the session's client_encoding
 */
public record CopyStatement(
    Optional<String> schema,
    Optional<String> table,
    List<String> columns,
    Optional<String> query,
    Format format,
    boolean header,
    char delimiter,
    String nullString,
    char quote,
    char escape,
    Optional<String> encoding) {

  /**
   * Checks that the statement copies either a table or a query.
   *
   * @throws IllegalArgumentException if it has both or neither, or a query with a schema or columns
   */
  public CopyStatement {
    columns = List.copyOf(columns);
    if (table.isPresent() == query.isPresent()
        || (query.isPresent() && (schema.isPresent() || !columns.isEmpty()))) {
      throw new IllegalArgumentException("a COPY copies either a table or a query");
    }
  }

  /** The format of the rows. */
  public enum Format {
    TEXT,
    CSV,
    BINARY
  }

  /**
   * The options PostgreSQL 15 takes for COPY TO. FORCE_NOT_NULL and FORCE_NULL are for COPY FROM
   * only, CONVERT_SELECTIVELY for file_fdw only: the server refuses them here.
   */
  private static final Set<String> OPTIONS =
      Set.of(
          "format",
          "freeze",
          "delimiter",
          "null",
          "header",
          "quote",
          "escape",
          "force_quote",
          "encoding");

  /** Characters PostgreSQL refuses as a text-format delimiter, as they mean something there. */
  private static final String TEXT_FORBIDDEN_DELIMITERS = "\\.abcdefghijklmnopqrstuvwxyz0123456789";

  /**
   * Reads {@code sql}, one statement, under standard_conforming_strings on.
   *
   * @return empty unless it is a {@code COPY … TO STDOUT} that this can read in full
   */
  public static Optional<CopyStatement> parse(String sql) {
    return parse(sql, true);
  }

  /**
   * Reads {@code sql}, one statement, under the session's standard_conforming_strings.
   *
   * @return empty unless it is a {@code COPY … TO STDOUT} that this can read in full
   */
  public static Optional<CopyStatement> parse(String sql, boolean standardConformingStrings) {
    List<LexedStatement> statements;
    try {
      statements = SqlLexer.split(sql, standardConformingStrings);
    } catch (SqlSyntaxException e) {
      return Optional.empty();
    }
    if (statements.size() != 1) {
      return Optional.empty();
    }
    try {
      return Optional.of(new Parser(statements.get(0), standardConformingStrings).copy());
    } catch (Unreadable e) {
      return Optional.empty();
    }
  }

  /** Something this parser does not read, or PostgreSQL would refuse. */
  private static final class Unreadable extends Exception {
    Unreadable() {
      super(null, null, false, false);
    }
  }

  /** An option's argument, as gram.y hands it to ProcessCopyOptions. */
  private record Arg(Kind kind, String text) {
    enum Kind {
      /** The option alone: {@code HEADER}, {@code (FREEZE)}. */
      NONE,
      /** A string constant or a word. */
      STRING,
      NUMBER,
      /** {@code *}, or a parenthesized list: FORCE_QUOTE's columns. */
      COLUMNS
    }

    static final Arg NONE = new Arg(Kind.NONE, "");

    static Arg string(String text) {
      return new Arg(Kind.STRING, text);
    }
  }

  /** PostgreSQL's CopyStmt rule (gram.y), over the statement's tokens. */
  private static final class Parser {
    private final LexedStatement statement;
    private final List<Token> tokens;
    private final boolean standardConformingStrings;
    private final Map<String, Arg> options = new HashMap<>();
    private int at;
    private Optional<String> schema = Optional.empty();
    private Optional<String> table = Optional.empty();
    private List<String> columns = List.of();
    private Optional<String> query = Optional.empty();

    Parser(LexedStatement statement, boolean standardConformingStrings) {
      this.statement = statement;
      this.tokens = statement.tokens();
      this.standardConformingStrings = standardConformingStrings;
    }

    CopyStatement copy() throws Unreadable {
      expectWord("copy");
      if (peekPunctuation("(")) {
        query();
      } else {
        if (acceptWord("binary")) {
          option("format", Arg.string("binary"));
        }
        table();
      }
      expectWord("to");
      expectWord("stdout");
      if (table.isPresent() && (peekWord("using") || peekWord("delimiters"))) {
        acceptWord("using");
        expectWord("delimiters");
        option("delimiter", Arg.string(string()));
      }
      acceptWord("with");
      if (acceptPunctuation("(")) {
        genericOptions();
      } else {
        while (at < tokens.size()) {
          oldOption();
        }
      }
      if (at < tokens.size()) {
        throw new Unreadable();
      }
      return resolve();
    }

    private void table() throws Unreadable {
      table = Optional.of(name());
      if (acceptPunctuation(".")) {
        schema = table;
        table = Optional.of(name());
      }
      if (acceptPunctuation("(")) {
        columns = names();
        expectPunctuation(")");
      }
    }

    private void query() throws Unreadable {
      Token open = next();
      int close = at;
      while (close < tokens.size()
          && !(tokens.get(close).isPunctuation(")") && tokens.get(close).depth() == open.depth())) {
        close++;
      }
      if (close == at || close == tokens.size()) {
        throw new Unreadable();
      }
      query =
          Optional.of(
              statement.text().substring(open.start() + 1, tokens.get(close).start()).strip());
      at = close + 1;
    }

    /** {@code ( name [arg] [, …] )}, the opening parenthesis read. */
    private void genericOptions() throws Unreadable {
      do {
        Token name = next();
        if (!name.isName()) {
          throw new Unreadable();
        }
        option(name.value(), genericArg());
      } while (acceptPunctuation(","));
      expectPunctuation(")");
    }

    private Arg genericArg() throws Unreadable {
      if (peekPunctuation(",") || peekPunctuation(")")) {
        return Arg.NONE;
      }
      if (acceptPunctuation("(")) {
        do {
          genericArg();
        } while (acceptPunctuation(","));
        expectPunctuation(")");
        return new Arg(Arg.Kind.COLUMNS, "");
      }
      Token token = next();
      if (token.type() == Token.Type.OPERATOR && token.value().equals("*")) {
        // defGetString reads * as "*", so DELIMITER * is a delimiter; FORCE_QUOTE * is a list.
        return new Arg(Arg.Kind.COLUMNS, "*");
      }
      if (token.isName()) {
        return Arg.string(token.value());
      }
      if (token.type() == Token.Type.NUMBER) {
        return new Arg(Arg.Kind.NUMBER, token.value());
      }
      if (token.type() == Token.Type.STRING) {
        return Arg.string(stringValue(token));
      }
      throw new Unreadable();
    }

    /** One item of the pre-9.0 option list: {@code CSV HEADER DELIMITER AS ','} and the like. */
    private void oldOption() throws Unreadable {
      Token word = next();
      if (word.type() != Token.Type.WORD) {
        throw new Unreadable();
      }
      switch (word.value()) {
        case "binary" -> option("format", Arg.string("binary"));
        case "csv" -> option("format", Arg.string("csv"));
        case "freeze" -> option("freeze", Arg.NONE);
        case "header" -> option("header", Arg.NONE);
        case "delimiter", "null", "quote", "escape" -> {
          acceptWord("as");
          option(word.value(), Arg.string(string()));
        }
        case "encoding" -> option("encoding", Arg.string(string()));
        case "force" -> {
          // FORCE NOT NULL and FORCE NULL are for COPY FROM only: PostgreSQL refuses them here.
          expectWord("quote");
          if (!acceptOperator("*")) {
            names();
          }
          option("force_quote", new Arg(Arg.Kind.COLUMNS, ""));
        }
        default -> throw new Unreadable();
      }
    }

    /** ProcessCopyOptions (commands/copy.c): each option once, checked, defaults filled in. */
    private CopyStatement resolve() throws Unreadable {
      if (!OPTIONS.containsAll(options.keySet())) {
        throw new Unreadable();
      }
      Format format = Format.TEXT;
      Arg formatArg = options.get("format");
      if (formatArg != null) {
        // Compared as written: FORMAT csv is folded to lower case, FORMAT 'CSV' is refused.
        format =
            switch (stringArg(formatArg)) {
              case "text" -> Format.TEXT;
              case "csv" -> Format.CSV;
              case "binary" -> Format.BINARY;
              default -> throw new Unreadable();
            };
      }
      boolean csv = format == Format.CSV;
      // HEADER MATCH is for COPY FROM only, so the header is a plain boolean.
      boolean header = options.containsKey("header") && bool(options.get("header"));
      if (options.containsKey("freeze")) {
        bool(options.get("freeze"));
      }
      Optional<String> encoding = Optional.empty();
      if (options.containsKey("encoding")) {
        encoding = Optional.of(stringArg(options.get("encoding")));
      }
      Arg forceQuote = options.get("force_quote");
      if (forceQuote != null && (forceQuote.kind() != Arg.Kind.COLUMNS || !csv)) {
        throw new Unreadable();
      }
      if (format == Format.BINARY
          && (header || options.containsKey("delimiter") || options.containsKey("null"))) {
        throw new Unreadable();
      }
      if (!csv && (options.containsKey("quote") || options.containsKey("escape"))) {
        throw new Unreadable();
      }
      char delimiter = character("delimiter", csv ? ',' : '\t');
      String nullString =
          options.containsKey("null") ? stringArg(options.get("null")) : csv ? "" : "\\N";
      char quote = character("quote", '"');
      char escape = character("escape", quote);
      // PostgreSQL 15 lets a quote or escape be a newline; such rows are not read here.
      if (isNewline(delimiter)
          || isNewline(quote)
          || isNewline(escape)
          || nullString.indexOf('\r') >= 0
          || nullString.indexOf('\n') >= 0
          || (!csv && TEXT_FORBIDDEN_DELIMITERS.indexOf(delimiter) >= 0)
          || (csv && delimiter == quote)
          || nullString.indexOf(delimiter) >= 0
          || (csv && nullString.indexOf(quote) >= 0)) {
        throw new Unreadable();
      }
      return new CopyStatement(
          schema,
          table,
          columns,
          query,
          format,
          header,
          delimiter,
          nullString,
          quote,
          escape,
          encoding);
    }

    private static boolean isNewline(char c) {
      return c == '\r' || c == '\n';
    }

    /** A single-byte option; PostgreSQL's server encoding is taken to be UTF-8 (ASCII only). */
    private char character(String option, char otherwise) throws Unreadable {
      Arg arg = options.get(option);
      if (arg == null) {
        return otherwise;
      }
      String value = stringArg(arg);
      if (value.length() != 1 || value.charAt(0) > 0x7F) {
        throw new Unreadable();
      }
      return value.charAt(0);
    }

    /** defGetString: words, strings, numbers as written, and {@code *}. */
    private static String stringArg(Arg arg) throws Unreadable {
      if (arg.kind() == Arg.Kind.NONE
          || (arg.kind() == Arg.Kind.COLUMNS && !arg.text().equals("*"))) {
        throw new Unreadable();
      }
      return arg.text();
    }

    /** defGetBoolean. */
    private static boolean bool(Arg arg) throws Unreadable {
      if (arg.kind() == Arg.Kind.NONE) {
        return true;
      }
      if (arg.kind() == Arg.Kind.NUMBER) {
        return switch (arg.text()) {
          case "0" -> false;
          case "1" -> true;
          default -> throw new Unreadable();
        };
      }
      return switch (SqlLexer.downcase(stringArg(arg))) {
        case "true", "on" -> true;
        case "false", "off" -> false;
        default -> throw new Unreadable();
      };
    }

    /** Each option may be given once, however it is spelled. */
    private void option(String name, Arg arg) throws Unreadable {
      if (options.putIfAbsent(name, arg) != null) {
        throw new Unreadable();
      }
    }

    private List<String> names() throws Unreadable {
      List<String> names = new ArrayList<>();
      do {
        names.add(name());
      } while (acceptPunctuation(","));
      return names;
    }

    private String name() throws Unreadable {
      Token token = next();
      if (!token.isName()) {
        throw new Unreadable();
      }
      return token.value();
    }

    /** An Sconst: a string or dollar-quoted constant. */
    private String string() throws Unreadable {
      Token token = next();
      if (token.type() != Token.Type.STRING) {
        throw new Unreadable();
      }
      return stringValue(token);
    }

    /**
     * The value of a string constant. B'…', X'…' and N'…' are not plain strings to the grammar;
     * U&amp;'…' is not read here.
     */
    private String stringValue(Token token) throws Unreadable {
      String raw = token.value();
      if (raw.startsWith("$")) {
        int tag = raw.indexOf('$', 1) + 1;
        return raw.substring(tag, raw.length() - tag);
      }
      if (raw.startsWith("'")) {
        return quoted(raw, 0, !standardConformingStrings);
      }
      if (raw.startsWith("E'") || raw.startsWith("e'")) {
        return quoted(raw, 1, true);
      }
      throw new Unreadable();
    }

    private Token next() throws Unreadable {
      if (at >= tokens.size()) {
        throw new Unreadable();
      }
      return tokens.get(at++);
    }

    private boolean peekWord(String word) {
      return at < tokens.size() && tokens.get(at).isWord(word);
    }

    private boolean peekPunctuation(String text) {
      return at < tokens.size() && tokens.get(at).isPunctuation(text);
    }

    private boolean acceptWord(String word) {
      if (peekWord(word)) {
        at++;
        return true;
      }
      return false;
    }

    private boolean acceptPunctuation(String text) {
      if (peekPunctuation(text)) {
        at++;
        return true;
      }
      return false;
    }

    private boolean acceptOperator(String text) {
      if (at < tokens.size()
          && tokens.get(at).type() == Token.Type.OPERATOR
          && tokens.get(at).value().equals(text)) {
        at++;
        return true;
      }
      return false;
    }

    private void expectWord(String word) throws Unreadable {
      if (!acceptWord(word)) {
        throw new Unreadable();
      }
    }

    private void expectPunctuation(String text) throws Unreadable {
      if (!acceptPunctuation(text)) {
        throw new Unreadable();
      }
    }
  }

  /**
   * The value of a quoted string constant starting at {@code from}, with the parts that continue it
   * on later lines ({@code 'a'} newline {@code 'b'} is {@code ab}). With {@code escapes}, the
   * backslash escapes of {@code E'…'} as PostgreSQL 15's scanner reads them.
   */
  private static String quoted(String raw, int from, boolean escapes) throws Unreadable {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    int i = from;
    while (i < raw.length()) {
      if (raw.charAt(i) != '\'') {
        throw new Unreadable();
      }
      i++;
      while (true) {
        if (i >= raw.length()) {
          throw new Unreadable();
        }
        char c = raw.charAt(i);
        if (c == '\'') {
          if (i + 1 < raw.length() && raw.charAt(i + 1) == '\'') {
            bytes.write('\'');
            i += 2;
            continue;
          }
          i++;
          break;
        }
        if (escapes && c == '\\') {
          i = escape(raw, i + 1, bytes);
        } else {
          int codePoint = raw.codePointAt(i);
          bytes.writeBytes(Character.toString(codePoint).getBytes(StandardCharsets.UTF_8));
          i += Character.charCount(codePoint);
        }
      }
      i = skipBlanksAndComments(raw, i);
    }
    try {
      // Octal and hex escapes give bytes, which PostgreSQL then requires to be valid text.
      String value =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes.toByteArray()))
              .toString();
      if (value.indexOf('\0') >= 0) {
        throw new Unreadable();
      }
      return value;
    } catch (CharacterCodingException e) {
      throw new Unreadable();
    }
  }

  /** One escape of {@code E'…'}, after its backslash at {@code at}; returns where it ends. */
  private static int escape(String raw, int at, ByteArrayOutputStream bytes) throws Unreadable {
    if (at >= raw.length()) {
      throw new Unreadable();
    }
    char c = raw.charAt(at);
    if (c >= '0' && c <= '7') {
      int end = at + 1;
      while (end < at + 3
          && end < raw.length()
          && raw.charAt(end) >= '0'
          && raw.charAt(end) <= '7') {
        end++;
      }
      bytes.write(Integer.parseInt(raw, at, end, 8) & 0xFF);
      return end;
    }
    if (c == 'x' && at + 1 < raw.length() && isHex(raw.charAt(at + 1))) {
      int end = at + 2;
      if (end < raw.length() && isHex(raw.charAt(end))) {
        end++;
      }
      bytes.write(Integer.parseInt(raw, at + 1, end, 16));
      return end;
    }
    if (c == 'u' || c == 'U') {
      int end = at + 1 + (c == 'u' ? 4 : 8);
      if (end > raw.length()) {
        throw new Unreadable();
      }
      if (!raw.substring(at + 1, end).chars().allMatch(d -> isHex((char) d))) {
        throw new Unreadable();
      }
      int codePoint = Integer.parseUnsignedInt(raw, at + 1, end, 16);
      // Surrogate pairs written as two escapes are not read here.
      if (codePoint == 0
          || codePoint > Character.MAX_CODE_POINT
          || (codePoint >= Character.MIN_SURROGATE && codePoint <= Character.MAX_SURROGATE)) {
        throw new Unreadable();
      }
      bytes.writeBytes(Character.toString(codePoint).getBytes(StandardCharsets.UTF_8));
      return end;
    }
    char unescaped =
        switch (c) {
          case 'b' -> '\b';
          case 'f' -> '\f';
          case 'n' -> '\n';
          case 'r' -> '\r';
          case 't' -> '\t';
          default -> c;
        };
    int codePoint = Character.isHighSurrogate(unescaped) ? raw.codePointAt(at) : unescaped;
    bytes.writeBytes(Character.toString(codePoint).getBytes(StandardCharsets.UTF_8));
    return at + Character.charCount(codePoint);
  }

  private static boolean isHex(char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  /** Between the parts of a continued string: blanks with a newline, and {@code --} comments. */
  private static int skipBlanksAndComments(String raw, int i) {
    while (i < raw.length()) {
      char c = raw.charAt(i);
      if (c == '-' && i + 1 < raw.length() && raw.charAt(i + 1) == '-') {
        while (i < raw.length() && raw.charAt(i) != '\n' && raw.charAt(i) != '\r') {
          i++;
        }
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\u000B') {
        i++;
      } else {
        break;
      }
    }
    return i;
  }
}
