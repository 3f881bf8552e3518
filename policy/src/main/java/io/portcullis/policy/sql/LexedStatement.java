package io.portcullis.policy.sql;

import java.util.List;

/**
 * One statement of a query string, split where PostgreSQL would split it.
 *
 * @param text the statement's source text, without the terminating semicolon
 * @param tokens its tokens, comments and whitespace dropped
 */
public record LexedStatement(String text, List<Token> tokens) {
  public LexedStatement {
    tokens = List.copyOf(tokens);
  }

  /**
   * The statement with every constant replaced by {@code ?}: statements that differ only in their
   * constants have the same shape, so their analysis can be cached once.
   */
  public String shape() {
    return render(false);
  }

  /**
   * The statement as its tokens, one space apart: the same for texts that differ only in comments,
   * white space and the case of unquoted words, so that an approval for one covers the others.
   */
  public String normalized() {
    return render(true);
  }

  private String render(boolean constants) {
    StringBuilder rendered = new StringBuilder(text.length());
    for (Token token : tokens) {
      if (!rendered.isEmpty()) {
        rendered.append(' ');
      }
      switch (token.type()) {
        case STRING, NUMBER -> rendered.append(constants ? token.value() : "?");
        case QUOTED_IDENTIFIER ->
            rendered.append('"').append(token.value().replace("\"", "\"\"")).append('"');
        default -> rendered.append(token.value());
      }
    }
    return rendered.toString();
  }
}
