package io.portcullis.node.audit;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.portcullis.persistence.audit.SessionEvent;

/**
 * The JSON in which the CLI and the admin API show journal data: times as ISO-8601, and what the
 * client sent sealed left out (a statement's parameter values and its COPY data are only for {@code
 * portcullis replay}; the masked values and the COPY's size are shown).
 */
public final class AuditJson {

  public static final ObjectMapper MAPPER =
      JsonMapper.builder()
          .addModule(new Jdk8Module())
          .addModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
          .disable(SerializationFeature.WRITE_DURATIONS_AS_TIMESTAMPS)
          .addMixIn(SessionEvent.StatementReceived.class, WithoutSealedValues.class)
          .addMixIn(SessionEvent.CopyDataReceived.class, WithoutSealedValues.class)
          .build();

  @JsonIgnoreProperties({"sealedParameters", "sealedData"})
  private interface WithoutSealedValues {}

  private AuditJson() {}
}
