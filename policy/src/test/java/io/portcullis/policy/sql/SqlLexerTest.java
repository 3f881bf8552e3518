package io.portcullis.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The lexer against PostgreSQL 15's scanner ({@code scan.l}); where its behaviour is not obvious,
 * the expectation was checked on a PostgreSQL 15 server. Where the server refuses a text as a
 * whole, the lexer may read it differently, as nothing of it runs.
 */
class SqlLexerTest {

  private static List<LexedStatement> split(String sql) throws SqlSyntaxException {
    return SqlLexer.split(sql, true);
  }

  private static List<String> texts(String sql, boolean standardConformingStrings)
      throws SqlSyntaxException {
    return SqlLexer.split(sql, standardConformingStrings).stream()
        .map(LexedStatement::text)
        .toList();
  }

  private static List<String> texts(String sql) throws SqlSyntaxException {
    return texts(sql, true);
  }

  /** The token values of the only statement in {@code sql}. */
  private static List<String> values(String sql) throws SqlSyntaxException {
    List<LexedStatement> statements = split(sql);
    assertThat(statements).hasSize(1);
    return statements.get(0).tokens().stream().map(Token::value).toList();
  }

  /** The token at {@code index} of the only statement in {@code sql}. */
  private static Token token(String sql, int index, boolean standardConformingStrings)
      throws SqlSyntaxException {
    List<LexedStatement> statements = SqlLexer.split(sql, standardConformingStrings);
    assertThat(statements).hasSize(1);
    return statements.get(0).tokens().get(index);
  }

  private static Token token(String sql, int index) throws SqlSyntaxException {
    return token(sql, index, true);
  }

  private static void assertRefused(String sql, boolean standardConformingStrings, String message) {
    assertThatThrownBy(() -> SqlLexer.split(sql, standardConformingStrings))
        .isInstanceOf(SqlSyntaxException.class)
        .hasMessage(message);
  }

  private static void assertRefused(String sql, String message) {
    assertRefused(sql, true, message);
  }

  // ---------------------------------------------------------------- splitting

  @Test
  void splitsAtTopLevelSemicolons() throws Exception {
    assertThat(texts("SELECT 1; SELECT 2;")).containsExactly("SELECT 1", "SELECT 2");
  }

  @Test
  void statementTextStartsAtItsFirstTokenAndEndsBeforeTheSemicolon() throws Exception {
    List<LexedStatement> statements = split("  /* lead */ SELECT 1 -- tail\n ;\n\t SELECT  22 ");
    assertThat(statements)
        .extracting(LexedStatement::text)
        .containsExactly("SELECT 1 -- tail", "SELECT  22");
    assertThat(statements.get(1).tokens())
        .containsExactly(
            new Token(Token.Type.WORD, "select", 0, 0), new Token(Token.Type.NUMBER, "22", 8, 0));
  }

  @Test
  void emptyStatementsBetweenSemicolonsAreLeftOut() throws Exception {
    assertThat(texts(";SELECT 1;; ;/* c */;SELECT 2")).containsExactly("SELECT 1", "SELECT 2");
  }

  @Test
  void onlyCommentsOrBlanksGiveNoStatements() throws Exception {
    assertThat(split("")).isEmpty();
    assertThat(split(" \t\r\n\f")).isEmpty();
    assertThat(split("-- just a comment")).isEmpty();
    assertThat(split("/* a /* nested */ comment */ -- and another\n ; ;")).isEmpty();
  }

  @Test
  void semicolonInStringDoesNotSplit() throws Exception {
    assertThat(texts("SELECT ';'; SELECT 2")).containsExactly("SELECT ';'", "SELECT 2");
  }

  @Test
  void semicolonInQuotedIdentifierDoesNotSplit() throws Exception {
    assertThat(texts("SELECT 1 AS \"a;b\"; SELECT 2"))
        .containsExactly("SELECT 1 AS \"a;b\"", "SELECT 2");
  }

  @Test
  void semicolonInCommentsDoesNotSplit() throws Exception {
    assertThat(texts("SELECT 1 -- ; DROP TABLE t\n, 2"))
        .containsExactly("SELECT 1 -- ; DROP TABLE t\n, 2");
    assertThat(values("SELECT /* ; DROP TABLE t; */ 1")).containsExactly("select", "1");
  }

  @Test
  void dollarQuoteHidesSemicolons() throws Exception {
    assertThat(texts("SELECT $$a; DROP TABLE t;$$; SELECT 2"))
        .containsExactly("SELECT $$a; DROP TABLE t;$$", "SELECT 2");
  }

  @Test
  void semicolonInsideParenthesesDoesNotSplit() throws Exception {
    // The server refuses this text as a whole, so nothing of it runs.
    List<LexedStatement> statements = split("SELECT (SELECT 1; DROP TABLE t)");
    assertThat(statements).hasSize(1);
    assertThat(statements.get(0).tokens())
        .filteredOn(t -> t.isPunctuation(";"))
        .singleElement()
        .extracting(Token::depth)
        .isEqualTo(1);
  }

  @Test
  void parenthesisDepthIsRecordedOnEveryToken() throws Exception {
    assertThat(split("SELECT f(1, (2))").get(0).tokens())
        .extracting(Token::value, Token::depth)
        .containsExactly(
            tuple("select", 0),
            tuple("f", 0),
            tuple("(", 0),
            tuple("1", 1),
            tuple(",", 1),
            tuple("(", 1),
            tuple("2", 2),
            tuple(")", 1),
            tuple(")", 0));
  }

  @Test
  void unbalancedClosingParenthesisIsRefused() {
    assertRefused("SELECT 1); SELECT (2", "unbalanced parentheses: ')' at offset 8");
  }

  @Test
  void unclosedParenthesisIsRefused() {
    assertRefused("SELECT (1; SELECT 2", "unbalanced parentheses: 1 left open");
  }

  // ---------------------------------------------------------------- comments

  @Test
  void nestedBlockCommentsEndOnlyAtTheOuterClose() throws Exception {
    assertThat(values("SELECT /* a /* b */ ; DROP TABLE t; */ 1")).containsExactly("select", "1");
  }

  @Test
  void slashStarSlashOpensAComment() throws Exception {
    // scan.l reads "/*/" as a comment start followed by "/", not as a start and an end.
    assertThat(values("SELECT 1 /*/ ; */ + 1")).containsExactly("select", "1", "+", "1");
    assertThat(values("SELECT 1 /**/+ 2")).containsExactly("select", "1", "+", "2");
  }

  @Test
  void unterminatedBlockCommentIsRefused() {
    assertRefused("SELECT 1 /* a /* b */ c", "unterminated /* comment starting at offset 9");
  }

  @Test
  void lineCommentRunsToTheEndOfTheLine() throws Exception {
    assertThat(texts("SELECT 1 -- c ; still comment\n; SELECT 2"))
        .containsExactly("SELECT 1 -- c ; still comment", "SELECT 2");
  }

  @Test
  void lineCommentAlsoEndsAtCarriageReturn() throws Exception {
    assertThat(texts("SELECT 1 -- c\r; SELECT 2")).containsExactly("SELECT 1 -- c", "SELECT 2");
  }

  @Test
  void blockCommentStartInsideLineCommentIsIgnored() throws Exception {
    assertThat(texts("SELECT 1 -- /*\n; SELECT 2 -- */"))
        .containsExactly("SELECT 1 -- /*", "SELECT 2 -- */");
  }

  // ---------------------------------------------------------------- strings

  @Test
  void doubledQuoteStaysInTheString() throws Exception {
    assertThat(values("SELECT 'it''s; ok'")).containsExactly("select", "'it''s; ok'");
  }

  @Test
  void unterminatedStringIsRefused() {
    assertRefused("SELECT 'abc; SELECT 2", "unterminated quoted string starting at offset 7");
  }

  @Test
  void backslashIsPlainWithStandardConformingStrings() throws Exception {
    assertThat(texts("SELECT 'a\\'; SELECT 2", true)).containsExactly("SELECT 'a\\'", "SELECT 2");
  }

  @Test
  void backslashEscapesAQuoteWithoutStandardConformingStrings() throws Exception {
    assertThat(texts("SELECT 'a\\'b'; SELECT 2", false))
        .containsExactly("SELECT 'a\\'b'", "SELECT 2");
    assertThat(token("SELECT 'a\\'b'", 1, false).value()).isEqualTo("'a\\'b'");
    assertRefused(
        "SELECT 'a\\'; SELECT 2", false, "unterminated quoted string starting at offset 7");
  }

  @Test
  void escapeStringReadsBackslashesWhateverTheSetting() throws Exception {
    assertThat(token("SELECT E'\\''", 1)).isEqualTo(new Token(Token.Type.STRING, "E'\\''", 7, 0));
    assertThat(texts("SELECT e'\\\\'; SELECT 2")).containsExactly("SELECT e'\\\\'", "SELECT 2");
    assertThat(texts("SELECT E'\\'; SELECT 2'", false)).containsExactly("SELECT E'\\'; SELECT 2'");
  }

  @Test
  void nationalStringFollowsTheSetting() throws Exception {
    assertThat(token("SELECT N'x'", 1).value()).isEqualTo("N'x'");
    assertThat(texts("SELECT N'a\\'; SELECT 2", true)).containsExactly("SELECT N'a\\'", "SELECT 2");
    assertThat(texts("SELECT N'a\\'b'; SELECT 2", false))
        .containsExactly("SELECT N'a\\'b'", "SELECT 2");
  }

  @Test
  void bitAndHexStringsAreConstants() throws Exception {
    assertThat(split("SELECT B'101', x'ff'").get(0).tokens())
        .containsExactly(
            new Token(Token.Type.WORD, "select", 0, 0),
            new Token(Token.Type.STRING, "B'101'", 7, 0),
            new Token(Token.Type.PUNCTUATION, ",", 13, 0),
            new Token(Token.Type.STRING, "x'ff'", 15, 0));
  }

  @Test
  void bitAndHexStringsHaveNoEscapesEvenWithoutStandardConformingStrings() throws Exception {
    assertThat(texts("SELECT X'\\'; SELECT 2", false)).containsExactly("SELECT X'\\'", "SELECT 2");
  }

  @Test
  void doubledQuoteEndsABitString() throws Exception {
    // B'1''0' is B'1' then '0', which the server refuses.
    assertThat(values("SELECT B'1''0'")).containsExactly("select", "B'1'", "'0'");
  }

  @Test
  void stringContinuesOnTheNextLine() throws Exception {
    assertThat(values("SELECT 'a'\n'b'")).containsExactly("select", "'a'\n'b'");
    assertThat(values("SELECT 'a' -- c\n  'b'")).containsExactly("select", "'a' -- c\n  'b'");
    assertThat(values("SELECT 'a'\r\n-- c\n'b'")).containsExactly("select", "'a'\r\n-- c\n'b'");
    assertThat(values("SELECT B'1'\n'0'")).containsExactly("select", "B'1'\n'0'");
  }

  @Test
  void stringOnTheSameLineOrAfterABlockCommentIsASecondConstant() throws Exception {
    // Both are refused by the server ("syntax error at or near 'b'").
    assertThat(values("SELECT 'a' 'b'")).containsExactly("select", "'a'", "'b'");
    assertThat(values("SELECT 'a' /* c */\n'b'")).containsExactly("select", "'a'", "'b'");
  }

  @Test
  void continuedStringIsReadLikeItsFirstPart() throws Exception {
    // PostgreSQL runs both statements: the continuation of E'x' reads \' as an escaped quote.
    assertThat(texts("SELECT E'x'\n'\\' '; SELECT 'second statement ran'; --'"))
        .containsExactly("SELECT E'x'\n'\\' '", "SELECT 'second statement ran'");
  }

  // ---------------------------------------------------------------- Unicode escapes

  @Test
  void unicodeStringIsOneConstant() throws Exception {
    assertThat(token("SELECT U&'d\\0061t\\+000061'", 1))
        .isEqualTo(new Token(Token.Type.STRING, "U&'d\\0061t\\+000061'", 7, 0));
  }

  @Test
  void unicodeStringIsRefusedWithoutStandardConformingStrings() {
    assertRefused(
        "SELECT U&'d\\0061t'",
        false,
        "unsafe use of string constant with Unicode escapes (standard_conforming_strings is off)");
  }

  @Test
  void uescapeClauseBelongsToTheUnicodeString() throws Exception {
    assertThat(values("SELECT U&'d!0061t' UESCAPE '!', 2"))
        .containsExactly("select", "U&'d!0061t'", ",", "2");
  }

  @Test
  void unicodeIdentifierIsResolved() throws Exception {
    assertThat(token("SELECT * FROM U&\"d\\0061t\"", 3))
        .isEqualTo(new Token(Token.Type.QUOTED_IDENTIFIER, "dat", 14, 0));
    assertThat(token("SELECT * FROM u&\"D\\+000061\\\\T\"", 3).value()).isEqualTo("Da\\T");
    assertThat(token("SELECT * FROM U&\"\\D83D\\DE00\"", 3).value()).isEqualTo("\uD83D\uDE00");
  }

  @Test
  void unicodeIdentifierIsResolvedWithoutStandardConformingStrings() throws Exception {
    assertThat(token("SELECT * FROM U&\"d\\0061t\"", 3, false).value()).isEqualTo("dat");
  }

  @Test
  void uescapeClauseSetsTheEscapeCharacter() throws Exception {
    assertThat(values("SELECT * FROM U&\"d!0061t\" /* c */ uescape '!' WHERE true"))
        .containsExactly("select", "*", "from", "dat", "where", "true");
  }

  @Test
  void unicodeIdentifierIsTruncatedAfterItsEscapesAreResolved() throws Exception {
    String escaped = "\\0061".repeat(70);
    assertThat(token("SELECT U&\"" + escaped + "\"", 1).value()).isEqualTo("a".repeat(63));
  }

  @Test
  void badUnicodeEscapesAreRefused() {
    assertRefused(
        "SELECT U&\"\\00\"",
        "invalid Unicode escape in the identifier at offset 7: escapes are \\XXXX or \\+XXXXXX");
    assertRefused(
        "SELECT U&\"\\0000\"", "invalid Unicode escape value in the identifier at offset 7");
    assertRefused(
        "SELECT U&\"\\D83D\"", "invalid Unicode surrogate pair in the identifier at offset 7");
    assertRefused("SELECT U&\"x\" UESCAPE '+'", "invalid Unicode escape character at offset 13");
    assertRefused(
        "SELECT U&\"x\" UESCAPE",
        "UESCAPE at offset 13 must be followed by a one-character string like '!'");
  }

  // ---------------------------------------------------------------- dollar quotes

  @Test
  void taggedDollarQuoteEndsOnlyAtItsOwnTag() throws Exception {
    assertThat(texts("SELECT $tag$ a $$ ; $$ b $ta$ ; $tag$; SELECT 2"))
        .containsExactly("SELECT $tag$ a $$ ; $$ b $ta$ ; $tag$", "SELECT 2");
  }

  @Test
  void dollarQuoteTagsMayHaveDigitsAfterTheFirstCharacter() throws Exception {
    assertThat(values("SELECT $a1$x;$a1$, $_$y$_$"))
        .containsExactly("select", "$a1$x;$a1$", ",", "$_$y$_$");
  }

  @Test
  void dollarAndDigitsAreAParameter() throws Exception {
    assertThat(split("SELECT $1, $12").get(0).tokens())
        .filteredOn(t -> t.type() == Token.Type.PARAMETER)
        .extracting(Token::value)
        .containsExactly("$1", "$12");
  }

  @Test
  void parameterFollowedByLettersIsRefused() {
    assertRefused("SELECT $1a", "trailing junk after parameter at offset 7");
  }

  @Test
  void identifierMayContainDollars() throws Exception {
    assertThat(token("SELECT a$b", 1)).isEqualTo(new Token(Token.Type.WORD, "a$b", 7, 0));
  }

  @Test
  void dollarsRightAfterAnIdentifierBelongToIt() throws Exception {
    assertThat(texts("SELECT 1 AS a$$; SELECT 2")).containsExactly("SELECT 1 AS a$$", "SELECT 2");
    assertThat(split("SELECT x$$y$$").get(0).tokens())
        .containsExactly(
            new Token(Token.Type.WORD, "select", 0, 0), new Token(Token.Type.WORD, "x$$y$$", 7, 0));
  }

  @Test
  void dollarQuoteAfterAnIdentifierAndASpaceIsAString() throws Exception {
    assertThat(values("SELECT a $$;$$")).containsExactly("select", "a", "$$;$$");
  }

  @Test
  void unterminatedDollarQuoteIsRefused() {
    assertRefused(
        "SELECT $x$ abc $y$; SELECT 2",
        "unterminated dollar-quoted string $x$ starting at offset 7");
    assertRefused(
        "SELECT 1 AS a$$;$$", "unterminated dollar-quoted string $$ starting at offset 16");
  }

  @Test
  void loneDollarIsRefused() {
    assertRefused("SELECT $ 1", "unexpected '$' at offset 7");
  }

  // ---------------------------------------------------------------- identifiers

  @Test
  void quotedIdentifierKeepsCaseAndDoubledQuotes() throws Exception {
    assertThat(token("SELECT \"My \"\"x\"\";\"", 1))
        .isEqualTo(new Token(Token.Type.QUOTED_IDENTIFIER, "My \"x\";", 7, 0));
  }

  @Test
  void zeroLengthQuotedIdentifierIsRefused() {
    assertRefused("SELECT 1 AS \"\"", "zero-length delimited identifier at offset 12");
    assertRefused("SELECT 1 AS U&\"\"", "zero-length delimited identifier at offset 12");
  }

  @Test
  void unterminatedQuotedIdentifierIsRefused() {
    assertRefused("SELECT \"a; SELECT 2", "unterminated quoted identifier starting at offset 7");
  }

  @Test
  void unquotedIdentifiersFoldOnlyAsciiLetters() throws Exception {
    assertThat(values("SELECT ÄBC FROM Bank.Customers"))
        .containsExactly("select", "Äbc", "from", "bank", ".", "customers");
  }

  @Test
  void longIdentifiersAreTruncatedTo63Bytes() throws Exception {
    assertThat(token("SELECT " + "A".repeat(70), 1).value()).isEqualTo("a".repeat(63));
    assertThat(token("SELECT \"" + "A".repeat(70) + "\"", 1).value()).isEqualTo("A".repeat(63));
    assertThat(token("SELECT " + "b".repeat(63), 1).value()).isEqualTo("b".repeat(63));
  }

  @Test
  void truncationDoesNotSplitAMultibyteCharacter() throws Exception {
    // 40 two-byte characters: 31 fit in 63 bytes, as the server's NOTICE shows.
    String plain = token("SELECT " + "é".repeat(40), 1).value();
    assertThat(plain).isEqualTo("é".repeat(31));
    assertThat(plain.getBytes(StandardCharsets.UTF_8)).hasSize(62);
    assertThat(token("SELECT \"" + "É".repeat(40) + "\"", 1).value()).isEqualTo("É".repeat(31));
    assertThat(token("SELECT a" + "\uD83D\uDE00".repeat(20), 1).value())
        .isEqualTo("a" + "\uD83D\uDE00".repeat(15));
  }

  // ---------------------------------------------------------------- operators and numbers

  @Test
  void lineCommentEndsTheOperatorBeforeIt() throws Exception {
    assertThat(values("SELECT 1 +-- comment\n1")).containsExactly("select", "1", "+", "1");
  }

  @Test
  void blockCommentEndsTheOperatorBeforeIt() throws Exception {
    assertThat(values("SELECT 1 */* c */ 2")).containsExactly("select", "1", "*", "2");
  }

  @Test
  void trailingPlusOrMinusIsAnOperatorOfItsOwn() throws Exception {
    assertThat(values("SELECT 2*-1, 1=-1, a<=+b"))
        .containsExactly(
            "select", "2", "*", "-", "1", ",", "1", "=", "-", "1", ",", "a", "<=", "+", "b");
  }

  @Test
  void operatorWithNonSqlCharactersKeepsItsTrailingMinus() throws Exception {
    assertThat(values("SELECT a ?- b, @-1"))
        .containsExactly("select", "a", "?-", "b", ",", "@-", "1");
  }

  @Test
  void castIsOnePunctuationToken() throws Exception {
    assertThat(split("SELECT '1'::int").get(0).tokens())
        .containsExactly(
            new Token(Token.Type.WORD, "select", 0, 0),
            new Token(Token.Type.STRING, "'1'", 7, 0),
            new Token(Token.Type.PUNCTUATION, "::", 10, 0),
            new Token(Token.Type.WORD, "int", 12, 0));
  }

  @Test
  void numbersWithFractionsAndExponentsAreOneToken() throws Exception {
    assertThat(split("SELECT 1.5e-3, .5, 1.e2, 7E+1, 10").get(0).tokens())
        .filteredOn(t -> t.type() == Token.Type.NUMBER)
        .extracting(Token::value)
        .containsExactly("1.5e-3", ".5", "1.e2", "7E+1", "10");
  }

  @Test
  void numberFollowedByLettersIsRefused() {
    assertRefused("SELECT 1a", "trailing junk after numeric literal at offset 7");
    assertRefused("SELECT 0x1F", "trailing junk after numeric literal at offset 7");
    assertRefused("SELECT 1_000", "trailing junk after numeric literal at offset 7");
    assertRefused("SELECT 1e+ 2", "trailing junk after numeric literal at offset 7");
  }

  @Test
  void verticalTabIsABlankAsInPostgres16() throws Exception {
    // PostgreSQL 15 rejects it, 16 and later read it as a blank: `DROP<VT>TABLE t` must be seen as
    // the DROP TABLE a newer server runs.
    assertThat(values("DROP\u000BTABLE\u000Bt")).containsExactly("drop", "table", "t");
  }

  // ---------------------------------------------------------------- shapes

  @Test
  void statementsThatDifferOnlyInConstantsShareAShape() throws Exception {
    String shape = split("SELECT 1 FROM t WHERE a = 'x'").get(0).shape();
    assertThat(shape).isEqualTo("select ? from t where a = ?");
    assertThat(split("select  42 -- c\nFROM T where A = $$y$$").get(0).shape()).isEqualTo(shape);
  }

  @Test
  void quotedAndUnquotedNamesHaveDifferentShapes() throws Exception {
    assertThat(split("SELECT a").get(0).shape()).isEqualTo("select a");
    assertThat(split("SELECT A").get(0).shape()).isEqualTo("select a");
    assertThat(split("SELECT \"A\"").get(0).shape()).isEqualTo("select \"A\"");
    assertThat(split("SELECT \"a\"\"b\"").get(0).shape()).isEqualTo("select \"a\"\"b\"");
  }
}
