package io.portcullis.persistence.audit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The hash chain of a session's events (and of a day's failed logins, and of a node's ledger): an
 * event's hash is the SHA-256 of its type and its canonical JSON (properties sorted, times in
 * ISO-8601), which includes the previous event's hash. Anyone can recompute it from the journal
 * with this class alone.
 */
public final class SessionChain {

  /** The previous hash of a session's first event. */
  public static final String GENESIS = "0".repeat(64);

  private static final ObjectMapper CANONICAL =
      JsonMapper.builder()
          .addModule(new Jdk8Module())
          .addModule(new JavaTimeModule())
          .enable(MapperFeature.SORT_PROPERTIES_ALPHABETICALLY)
          .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .build();

  private SessionChain() {}

  /** The hex SHA-256 of an event (a session's, a failed login's, or a ledger checkpoint). */
  public static String hash(ChainedEvent event) {
    try {
      return HexFormat.of()
          .formatHex(MessageDigest.getInstance("SHA-256").digest(canonicalBytes(event)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("cannot hash a session event", e);
    }
  }

  /** What an event's hash is taken over: its type, a newline, and its canonical JSON. */
  static byte[] canonicalBytes(ChainedEvent event) {
    try {
      byte[] type = (event.getClass().getSimpleName() + "\n").getBytes(StandardCharsets.UTF_8);
      byte[] json = CANONICAL.writeValueAsBytes(event);
      byte[] bytes = Arrays.copyOf(type, type.length + json.length);
      System.arraycopy(json, 0, bytes, type.length, json.length);
      return bytes;
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot encode a session event", e);
    }
  }
}
