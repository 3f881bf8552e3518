package io.portcullis.policy.sql;

/**
 * One lexical token of a statement, as PostgreSQL's scanner would see it.
 *
 * @param type what kind of token
 * @param value for words, the name as PostgreSQL resolves it (ASCII letters folded to lower case,
 *     truncated to 63 bytes); for quoted identifiers, the name between the quotes; otherwise the
 *     token's text
 * @param start offset of the first character in the statement text
 * @param depth parenthesis depth at the token: 0 at the top level of the statement
 */
public record Token(Type type, String value, int start, int depth) {

  public enum Type {
    /** An unquoted identifier or keyword. */
    WORD,
    /** A double-quoted identifier, which is never a keyword. */
    QUOTED_IDENTIFIER,
    /** A string, bit-string or dollar-quoted constant. */
    STRING,
    NUMBER,
    /** {@code $1}, {@code $2}, … */
    PARAMETER,
    OPERATOR,
    /** One of {@code ( ) [ ] , ; : . ::}. */
    PUNCTUATION
  }

  public boolean isWord(String word) {
    return type == Type.WORD && value.equals(word);
  }

  public boolean isPunctuation(String text) {
    return type == Type.PUNCTUATION && value.equals(text);
  }

  /** A name: an unquoted word or a quoted identifier. */
  public boolean isName() {
    return type == Type.WORD || type == Type.QUOTED_IDENTIFIER;
  }

  public boolean isLiteral() {
    return type == Type.STRING || type == Type.NUMBER;
  }
}
