package io.portcullis.policy.sql;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits a query string into statements and tokens exactly as PostgreSQL 15's scanner ({@code
 * scan.l}) does, so that no comment, quote or dollar-quote can hide a keyword from the policy:
 * nested {@code /* *}{@code /} comments, {@code --} comments, {@code '…'} strings under either
 * setting of {@code standard_conforming_strings}, {@code E'…'}, {@code U&'…'}, {@code B'…'}, {@code
 * X'…'}, {@code N'…'}, dollar quotes with tags, quoted identifiers (also {@code U&"…"}), identifier
 * case folding and truncation to 63 bytes. Anything the scanner would reject is refused.
 */
public final class SqlLexer {

  /** PostgreSQL's NAMEDATALEN - 1: longer identifiers are truncated by the server. */
  static final int MAX_IDENTIFIER_BYTES = 63;

  /**
   * PostgreSQL 16 and later read a vertical tab as a blank (15 rejects it); reading it as one here
   * keeps statement boundaries the same as the newer servers see them.
   */
  private static final char VERTICAL_TAB = '\u000B';

  private static final String OPERATOR_CHARS = "~!@#^&|`?+-*/%<>=";

  /** How the scanner reads the inside of a quoted string (its states in scan.l). */
  private enum Quoting {
    /** {@code '…'} with standard_conforming_strings on, {@code U&'…'}: {@code ''} is a quote. */
    STANDARD,
    /**
     * {@code E'…'}, and {@code '…'} with standard_conforming_strings off: backslash escapes too.
     */
    ESCAPED,
    /** {@code B'…'} and {@code X'…'}: no escapes, {@code ''} ends the string. */
    BITS
  }

  private final String sql;
  private final boolean standardConformingStrings;
  private int pos;
  private int depth;

  private SqlLexer(String sql, boolean standardConformingStrings) {
    this.sql = sql;
    this.standardConformingStrings = standardConformingStrings;
  }

  /**
   * The statements of {@code sql}, split at top-level semicolons; statements with no tokens (only
   * comments or blanks) are left out.
   */
  public static List<LexedStatement> split(String sql, boolean standardConformingStrings)
      throws SqlSyntaxException {
    return new SqlLexer(sql, standardConformingStrings).statements();
  }

  private List<LexedStatement> statements() throws SqlSyntaxException {
    List<LexedStatement> statements = new ArrayList<>();
    List<Token> tokens = new ArrayList<>();
    int statementStart = 0;
    while (true) {
      skipBlanksAndComments();
      if (pos >= sql.length()) {
        break;
      }
      Token token = next();
      if (token.isPunctuation(";") && token.depth() == 0) {
        add(statements, statementStart, token.start(), tokens);
        tokens = new ArrayList<>();
        statementStart = pos;
      } else {
        tokens.add(token);
      }
    }
    if (depth != 0) {
      throw new SqlSyntaxException("unbalanced parentheses: " + depth + " left open");
    }
    add(statements, statementStart, sql.length(), tokens);
    return statements;
  }

  private void add(List<LexedStatement> statements, int from, int to, List<Token> tokens) {
    if (!tokens.isEmpty()) {
      int offset = tokens.get(0).start();
      List<Token> relative = new ArrayList<>(tokens.size());
      for (Token token : tokens) {
        relative.add(new Token(token.type(), token.value(), token.start() - offset, token.depth()));
      }
      statements.add(new LexedStatement(sql.substring(offset, to).stripTrailing(), relative));
    }
  }

  private void skipBlanksAndComments() throws SqlSyntaxException {
    while (pos < sql.length()) {
      char c = sql.charAt(pos);
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == VERTICAL_TAB) {
        pos++;
      } else if (c == '-' && peek(1) == '-') {
        while (pos < sql.length() && sql.charAt(pos) != '\n' && sql.charAt(pos) != '\r') {
          pos++;
        }
      } else if (c == '/' && peek(1) == '*') {
        skipBlockComment();
      } else {
        return;
      }
    }
  }

  private void skipBlockComment() throws SqlSyntaxException {
    int start = pos;
    int nesting = 0;
    while (pos < sql.length()) {
      if (sql.charAt(pos) == '/' && peek(1) == '*') {
        nesting++;
        pos += 2;
      } else if (sql.charAt(pos) == '*' && peek(1) == '/') {
        nesting--;
        pos += 2;
        if (nesting == 0) {
          return;
        }
      } else {
        pos++;
      }
    }
    throw new SqlSyntaxException("unterminated /* comment starting at offset " + start);
  }

  private Token next() throws SqlSyntaxException {
    int start = pos;
    char c = sql.charAt(pos);
    if ((c == 'e' || c == 'E') && peek(1) == '\'') {
      pos++;
      return string(start, Quoting.ESCAPED);
    }
    if ((c == 'b' || c == 'B' || c == 'x' || c == 'X') && peek(1) == '\'') {
      pos++;
      return string(start, Quoting.BITS);
    }
    if ((c == 'n' || c == 'N') && peek(1) == '\'') {
      pos++;
      return string(start, plainQuoting());
    }
    if ((c == 'u' || c == 'U') && peek(1) == '&' && (peek(2) == '\'' || peek(2) == '"')) {
      if (peek(2) == '\'' && !standardConformingStrings) {
        throw new SqlSyntaxException(
            "unsafe use of string constant with Unicode escapes"
                + " (standard_conforming_strings is off)");
      }
      pos += 2;
      if (peek(0) == '\'') {
        Token string = string(start, Quoting.STANDARD);
        unicodeEscape(); // a string keeps its raw text; only the UESCAPE clause is consumed
        return string;
      }
      String name = quotedName(start);
      return token(
          Token.Type.QUOTED_IDENTIFIER, truncate(unescape(name, unicodeEscape(), start)), start);
    }
    if (c == '\'') {
      return string(start, plainQuoting());
    }
    if (c == '"') {
      return token(Token.Type.QUOTED_IDENTIFIER, truncate(quotedName(start)), start);
    }
    if (c == '$') {
      return dollar(start);
    }
    if (isIdentifierStart(c)) {
      return word(start);
    }
    if (isDigit(c) || (c == '.' && isDigit(peek(1)))) {
      return number(start);
    }
    if (c == ':' && peek(1) == ':') {
      pos += 2;
      return token(Token.Type.PUNCTUATION, "::", start);
    }
    if ("()[],;:.".indexOf(c) >= 0) {
      pos++;
      if (c == '(') {
        depth++;
        return new Token(Token.Type.PUNCTUATION, "(", start, depth - 1);
      }
      if (c == ')') {
        if (--depth < 0) {
          throw new SqlSyntaxException("unbalanced parentheses: ')' at offset " + start);
        }
      }
      return token(Token.Type.PUNCTUATION, String.valueOf(c), start);
    }
    if (OPERATOR_CHARS.indexOf(c) >= 0) {
      return operator(start);
    }
    throw new SqlSyntaxException(
        "unexpected character '" + c + "' at offset " + start + " (U+" + hex(c) + ")");
  }

  private Token token(Token.Type type, String value, int start) {
    return new Token(type, value, start, depth);
  }

  private Quoting plainQuoting() {
    return standardConformingStrings ? Quoting.STANDARD : Quoting.ESCAPED;
  }

  /** A quoted string, with the parts that continue it on later lines. */
  private Token string(int start, Quoting quoting) throws SqlSyntaxException {
    pos++; // opening quote
    while (pos < sql.length()) {
      char c = sql.charAt(pos);
      if (c == '\\' && quoting == Quoting.ESCAPED) {
        pos += 2;
      } else if (c == '\'' && peek(1) == '\'' && quoting != Quoting.BITS) {
        pos += 2;
      } else if (c == '\'') {
        pos++;
        int continued = continuation();
        if (continued < 0) {
          return token(Token.Type.STRING, sql.substring(start, pos), start);
        }
        // The continuation is read as the first part was: in E'a'\n'\' ' the \' is an escape.
        pos = continued + 1;
      } else {
        pos++;
      }
    }
    throw new SqlSyntaxException("unterminated quoted string starting at offset " + start);
  }

  /**
   * The offset of the quote that continues the string just closed, or -1: as in scan.l, the quote
   * must follow whitespace that holds a newline, possibly with {@code --} comments ('a' 'b' is two
   * constants, which the server refuses).
   */
  private int continuation() {
    boolean newline = false;
    int at = pos;
    while (at < sql.length()) {
      char c = sql.charAt(at);
      if (c == '\n' || c == '\r') {
        newline = true;
        at++;
      } else if (c == ' ' || c == '\t' || c == '\f' || c == VERTICAL_TAB) {
        at++;
      } else if (c == '-' && at + 1 < sql.length() && sql.charAt(at + 1) == '-') {
        while (at < sql.length() && sql.charAt(at) != '\n' && sql.charAt(at) != '\r') {
          at++;
        }
      } else {
        break;
      }
    }
    return newline && at < sql.length() && sql.charAt(at) == '\'' ? at : -1;
  }

  /** The name between double quotes, {@code ""} read as one quote. */
  private String quotedName(int start) throws SqlSyntaxException {
    pos++; // opening quote
    StringBuilder name = new StringBuilder();
    while (pos < sql.length()) {
      char c = sql.charAt(pos);
      if (c == '"') {
        if (peek(1) == '"') {
          name.append('"');
          pos += 2;
          continue;
        }
        pos++;
        if (name.isEmpty()) {
          throw new SqlSyntaxException("zero-length delimited identifier at offset " + start);
        }
        return name.toString();
      }
      name.append(c);
      pos++;
    }
    throw new SqlSyntaxException("unterminated quoted identifier starting at offset " + start);
  }

  /**
   * The escape character of the {@code U&} constant or identifier just read: a backslash, unless a
   * {@code UESCAPE 'c'} clause follows, which is consumed here as PostgreSQL's parser does. Only
   * the plain {@code 'c'} form is accepted.
   */
  private char unicodeEscape() throws SqlSyntaxException {
    int before = pos;
    skipBlanksAndComments();
    int wordEnd = pos;
    while (wordEnd < sql.length() && isIdentifierPart(sql.charAt(wordEnd))) {
      wordEnd++;
    }
    if (!downcase(sql.substring(pos, wordEnd)).equals("uescape")) {
      pos = before;
      return '\\';
    }
    int clause = pos;
    pos = wordEnd;
    skipBlanksAndComments();
    String literal = peek(0) == '\'' ? string(pos, plainQuoting()).value() : "";
    if (literal.length() != 3) {
      throw new SqlSyntaxException(
          "UESCAPE at offset " + clause + " must be followed by a one-character string like '!'");
    }
    char escape = literal.charAt(1);
    if (isHexDigit(escape) || "+'\" \t\n\r\f".indexOf(escape) >= 0) {
      throw new SqlSyntaxException("invalid Unicode escape character at offset " + clause);
    }
    return escape;
  }

  /**
   * Resolves the escapes of a {@code U&"…"} identifier as PostgreSQL does ({@code str_udeescape}).
   */
  private static String unescape(String name, char escape, int start) throws SqlSyntaxException {
    StringBuilder out = new StringBuilder(name.length());
    int highSurrogate = 0;
    int i = 0;
    while (i < name.length()) {
      char c = name.charAt(i);
      if (c != escape) {
        if (highSurrogate != 0) {
          throw invalidSurrogatePair(start);
        }
        out.append(c);
        i++;
        continue;
      }
      if (i + 1 < name.length() && name.charAt(i + 1) == escape) {
        out.append(escape);
        i += 2;
        continue;
      }
      boolean six = i + 1 < name.length() && name.charAt(i + 1) == '+';
      int from = six ? i + 2 : i + 1;
      int to = from + (six ? 6 : 4);
      if (to > name.length()
          || !name.substring(from, to).chars().allMatch(d -> isHexDigit((char) d))) {
        throw new SqlSyntaxException(
            "invalid Unicode escape in the identifier at offset "
                + start
                + ": escapes are "
                + escape
                + "XXXX or "
                + escape
                + "+XXXXXX");
      }
      int codePoint = Integer.parseInt(name, from, to, 16);
      if (codePoint == 0 || codePoint > Character.MAX_CODE_POINT) {
        throw new SqlSyntaxException(
            "invalid Unicode escape value in the identifier at offset " + start);
      }
      i = to;
      boolean high = codePoint >= 0xD800 && codePoint <= 0xDBFF;
      boolean low = codePoint >= 0xDC00 && codePoint <= 0xDFFF;
      if (highSurrogate != 0 ? !low : low) {
        throw invalidSurrogatePair(start);
      }
      if (low) {
        out.appendCodePoint(Character.toCodePoint((char) highSurrogate, (char) codePoint));
        highSurrogate = 0;
      } else if (high) {
        highSurrogate = codePoint;
      } else {
        out.appendCodePoint(codePoint);
      }
    }
    if (highSurrogate != 0) {
      throw invalidSurrogatePair(start);
    }
    return out.toString();
  }

  private static SqlSyntaxException invalidSurrogatePair(int start) {
    return new SqlSyntaxException(
        "invalid Unicode surrogate pair in the identifier at offset " + start);
  }

  /** {@code $1}, or a dollar-quoted string {@code $tag$…$tag$}. */
  private Token dollar(int start) throws SqlSyntaxException {
    if (isDigit(peek(1))) {
      pos++;
      while (pos < sql.length() && isDigit(sql.charAt(pos))) {
        pos++;
      }
      if (pos < sql.length() && isIdentifierStart(sql.charAt(pos))) {
        throw new SqlSyntaxException("trailing junk after parameter at offset " + start);
      }
      return token(Token.Type.PARAMETER, sql.substring(start, pos), start);
    }
    int tagEnd = pos + 1;
    if (tagEnd < sql.length() && isIdentifierStart(sql.charAt(tagEnd))) {
      while (tagEnd < sql.length()
          && (isIdentifierStart(sql.charAt(tagEnd)) || isDigit(sql.charAt(tagEnd)))) {
        tagEnd++;
      }
    }
    if (tagEnd >= sql.length() || sql.charAt(tagEnd) != '$') {
      throw new SqlSyntaxException("unexpected '$' at offset " + start);
    }
    String delimiter = sql.substring(start, tagEnd + 1);
    int close = sql.indexOf(delimiter, tagEnd + 1);
    if (close < 0) {
      throw new SqlSyntaxException(
          "unterminated dollar-quoted string " + delimiter + " starting at offset " + start);
    }
    pos = close + delimiter.length();
    return token(Token.Type.STRING, sql.substring(start, pos), start);
  }

  private Token word(int start) {
    while (pos < sql.length() && isIdentifierPart(sql.charAt(pos))) {
      pos++;
    }
    return token(Token.Type.WORD, truncate(downcase(sql.substring(start, pos))), start);
  }

  private Token number(int start) throws SqlSyntaxException {
    while (pos < sql.length() && isDigit(sql.charAt(pos))) {
      pos++;
    }
    if (peek(0) == '.' && peek(1) != '.') {
      pos++;
      while (pos < sql.length() && isDigit(sql.charAt(pos))) {
        pos++;
      }
    }
    if ((peek(0) == 'e' || peek(0) == 'E')
        && (isDigit(peek(1)) || ((peek(1) == '+' || peek(1) == '-') && isDigit(peek(2))))) {
      pos += 2;
      while (pos < sql.length() && isDigit(sql.charAt(pos))) {
        pos++;
      }
    }
    // PostgreSQL 15 refuses 1a, 0x1F and 1_000 (later versions read the last two as numbers).
    if (pos < sql.length() && isIdentifierStart(sql.charAt(pos))) {
      throw new SqlSyntaxException("trailing junk after numeric literal at offset " + start);
    }
    return token(Token.Type.NUMBER, sql.substring(start, pos), start);
  }

  /**
   * An operator; as in PostgreSQL, {@code --} or {@code /*} inside one starts a comment, and a
   * trailing {@code +} or {@code -} is an operator of its own ({@code =-1} is {@code = - 1}) unless
   * the operator has one of {@code ~!@#^&|`?%}.
   */
  private Token operator(int start) {
    while (pos < sql.length() && OPERATOR_CHARS.indexOf(sql.charAt(pos)) >= 0) {
      if (pos > start
          && ((sql.charAt(pos) == '-' && peek(1) == '-')
              || (sql.charAt(pos) == '/' && peek(1) == '*'))) {
        break;
      }
      pos++;
    }
    String operator = sql.substring(start, pos);
    if (operator.chars().noneMatch(c -> "~!@#^&|`?%".indexOf(c) >= 0)) {
      while (pos - start > 1 && (sql.charAt(pos - 1) == '+' || sql.charAt(pos - 1) == '-')) {
        pos--;
      }
      operator = sql.substring(start, pos);
    }
    return token(Token.Type.OPERATOR, operator, start);
  }

  private char peek(int ahead) {
    int at = pos + ahead;
    return at < sql.length() ? sql.charAt(at) : '\0';
  }

  private static boolean isIdentifierStart(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
  }

  private static boolean isIdentifierPart(char c) {
    return isIdentifierStart(c) || isDigit(c) || c == '$';
  }

  private static boolean isHexDigit(char c) {
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  /** PostgreSQL folds only ASCII letters of unquoted identifiers. */
  public static String downcase(String word) {
    StringBuilder folded = null;
    for (int i = 0; i < word.length(); i++) {
      char c = word.charAt(i);
      if (c >= 'A' && c <= 'Z') {
        if (folded == null) {
          folded = new StringBuilder(word);
        }
        folded.setCharAt(i, (char) (c + ('a' - 'A')));
      }
    }
    return folded == null ? word : folded.toString();
  }

  /** Truncates to 63 bytes of UTF-8 without splitting a character, as the server does. */
  public static String truncate(String name) {
    if (name.length() * 3 <= MAX_IDENTIFIER_BYTES
        || name.getBytes(StandardCharsets.UTF_8).length <= MAX_IDENTIFIER_BYTES) {
      return name;
    }
    int bytes = 0;
    int end = 0;
    while (end < name.length()) {
      int codePoint = name.codePointAt(end);
      int size = new String(Character.toChars(codePoint)).getBytes(StandardCharsets.UTF_8).length;
      if (bytes + size > MAX_IDENTIFIER_BYTES) {
        break;
      }
      bytes += size;
      end += Character.charCount(codePoint);
    }
    return name.substring(0, end);
  }

  private static String hex(char c) {
    return String.format("%04X", (int) c);
  }
}
