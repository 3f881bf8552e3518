package io.portcullis.node.masking;

import io.portcullis.policy.catalog.Relations;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * An error or notice can quote any value its statement read: {@code invalid input syntax for type
 * integer: "9988776655"}, {@code Failing row contains (…)}, a function's {@code RAISE}. For an
 * identity whose results are masked, every word of such a message is replaced by {@value #REDACTED}
 * unless it is a word of PostgreSQL's own messages ({@code postgres-message-words.txt}, written by
 * {@code bin/postgres-message-words}), a word of what the client sent for the statements being
 * answered, or the name of a schema, table, view or column of the target. Words are runs of
 * letters, digits and underscores; a redacted run takes the punctuation between its words with it
 * ({@code 123-45-6789} becomes one {@value #REDACTED}).
 *
 * <p>PostgreSQL's words are compared as written, so that a name like {@code Max} is not taken for
 * the {@code max} of a message; the client's words and the catalog's names in any case. A value
 * made only of such words passes: that is the limit docs/masking.md states.
 */
final class DiagnosticRedaction {

  static final String REDACTED = "***";

  /** Added to a redacted message's hint, so that the person reading it knows why. */
  static final String HINT =
      "Portcullis replaced with "
          + REDACTED
          + " the words of this message that are neither PostgreSQL's nor the statement's: they"
          + " may quote a protected value.";

  private static final Set<String> POSTGRES_WORDS = load("postgres-message-words.txt");

  private static final Set<String> POSTGRES_SQLSTATES = load("postgres-sqlstates.txt");

  private final Set<String> clientWords = new HashSet<>();
  private final Relations relations;
  private boolean redacted;

  /**
   * @param clientTexts the SQL and the statement and portal names the client sent for the
   *     statements being answered
   */
  DiagnosticRedaction(List<String> clientTexts, Relations relations) {
    this.relations = relations;
    for (String text : clientTexts) {
      for (int i = 0; i < text.length(); ) {
        int end = wordEnd(text, i);
        if (end > i) {
          clientWords.add(text.substring(i, end).toLowerCase(Locale.ROOT));
          i = end;
        } else {
          i += Character.charCount(text.codePointAt(i));
        }
      }
    }
  }

  /**
   * The SQLSTATE as the client may see it. PL/pgSQL's {@code RAISE … USING ERRCODE = x} takes any
   * five digits and capital letters, so a code PostgreSQL does not define may spell a value; it
   * becomes the code such a {@code RAISE} has by default.
   */
  static String sqlState(String code, boolean error) {
    if (POSTGRES_SQLSTATES.contains(code)) {
      return code;
    }
    return error ? "P0001" : "01000";
  }

  /** Whether any text given to {@link #redact} had a word replaced. */
  boolean redacted() {
    return redacted;
  }

  /** The text with every word that may be a value replaced; the same string if none was. */
  String redact(String text) {
    StringBuilder out = null;
    int copied = 0;
    int spanStart = -1;
    int spanEnd = -1;
    for (int i = 0; i < text.length(); ) {
      int end = wordEnd(text, i);
      if (end == i) {
        i += Character.charCount(text.codePointAt(i));
        continue;
      }
      if (!known(text.substring(i, end))) {
        if (spanEnd >= 0 && onlyJoiners(text, spanEnd, i)) {
          spanEnd = end;
        } else {
          if (spanEnd >= 0) {
            out = replaced(out, text, copied, spanStart);
            copied = spanEnd;
          }
          spanStart = i;
          spanEnd = end;
        }
      }
      i = end;
    }
    if (spanEnd < 0) {
      return text;
    }
    out = replaced(out, text, copied, spanStart);
    redacted = true;
    return out.append(text, spanEnd, text.length()).toString();
  }

  private static StringBuilder replaced(StringBuilder out, String text, int from, int spanStart) {
    StringBuilder builder = out == null ? new StringBuilder(text.length()) : out;
    return builder.append(text, from, spanStart).append(REDACTED);
  }

  private boolean known(String word) {
    if (POSTGRES_WORDS.contains(word)
        || clientWords.contains(word.toLowerCase(Locale.ROOT))
        || relations.hasName(word)) {
      return true;
    }
    // customers_ssn_key: a name PostgreSQL made from known names.
    if (word.indexOf('_') < 0) {
      return false;
    }
    for (String part : word.split("_")) {
      if (!part.isEmpty() && !known(part)) {
        return false;
      }
    }
    return true;
  }

  /** The end of the word starting at {@code start}; {@code start} itself if none does. */
  private static int wordEnd(String text, int start) {
    int i = start;
    while (i < text.length()) {
      int c = text.codePointAt(i);
      if (!Character.isLetterOrDigit(c) && c != '_') {
        break;
      }
      i += Character.charCount(c);
    }
    return i;
  }

  /**
   * Whether what lies between two words joins them into one value ({@code -}, {@code .},
   * {@code @}).
   */
  private static boolean onlyJoiners(String text, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      if (Character.isWhitespace(c) || "\"'()[]{},;:=".indexOf(c) >= 0) {
        return false;
      }
    }
    return true;
  }

  private static Set<String> load(String resource) {
    Set<String> words = new HashSet<>();
    try (InputStream in = DiagnosticRedaction.class.getResourceAsStream(resource);
        BufferedReader reader =
            new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        words.add(line);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Set.copyOf(words);
  }
}
