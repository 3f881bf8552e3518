package io.portcullis.node.testing;

import com.typesafe.config.ConfigFactory;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.persistence.audit.SessionEvent;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;

/** What a journal database holds, read as the audit commands read it. */
public final class JournalContents {

  private JournalContents() {}

  /** The events of every session, oldest session first. */
  public static List<List<ChainCheck.Stored<SessionEvent>>> sessions(Connection journal)
      throws Exception {
    return read(
        journal,
        reader -> {
          List<List<ChainCheck.Stored<SessionEvent>>> sessions = new ArrayList<>();
          for (String session : reader.sessions()) {
            sessions.add(reader.events(session));
          }
          return sessions;
        });
  }

  public static Optional<String> policyText(Connection journal, String version) throws Exception {
    return read(journal, reader -> reader.policyText(version));
  }

  /** What to read. */
  @FunctionalInterface
  public interface Read<T> {
    T from(JournalReader reader) throws Exception;
  }

  public static <T> T read(Connection journal, Read<T> read) throws Exception {
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "audit-read",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    try {
      return read.from(new JournalReader(journal, system));
    } finally {
      system.terminate();
    }
  }
}
