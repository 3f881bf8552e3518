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
    StringBuilder shape = new StringBuilder(text.length());
    for (Token token : tokens) {
      if (!shape.isEmpty()) {
        shape.append(' ');
      }
      switch (token.type()) {
        case STRING, NUMBER -> shape.append('?');
        case QUOTED_IDENTIFIER ->
            shape.append('"').append(token.value().replace("\"", "\"\"")).append('"');
        default -> shape.append(token.value());
      }
    }
    return shape.toString();
  }
}
