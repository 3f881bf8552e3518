package io.portcullis.node.session;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.portcullis.policy.identity.LoginEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes every login attempt as one JSON line on the {@code io.portcullis.audit.login} logger,
 * until the audit journal stores them. Never a password or token: only their fingerprint.
 */
final class LoginLog {

  private static final Logger log = LoggerFactory.getLogger("io.portcullis.audit.login");
  private static final ObjectMapper json =
      JsonMapper.builder()
          .addModule(new Jdk8Module())
          .addModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .build();

  private LoginLog() {}

  static void record(LoginEvent event) {
    try {
      log.info(json.writeValueAsString(event));
    } catch (JsonProcessingException e) {
      log.error("cannot write login event for user {}", event.user(), e);
    }
  }
}
