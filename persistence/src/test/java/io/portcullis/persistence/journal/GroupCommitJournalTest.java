package io.portcullis.persistence.journal;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.portcullis.persistence.audit.ChainCheck;
import io.portcullis.persistence.audit.JournalReader;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.SessionClosed;
import io.portcullis.persistence.audit.SessionEvent.SessionOpened;
import io.portcullis.persistence.audit.SessionJournal;
import io.portcullis.persistence.audit.TestEvents;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.persistence.jdbc.query.javadsl.JdbcReadJournal;
import org.apache.pekko.persistence.query.EventEnvelope;
import org.apache.pekko.persistence.query.Offset;
import org.apache.pekko.persistence.query.PersistenceQuery;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The journal plugin under session entities, as the gateway runs them: what they write reads back
 * whole through our reader, the chain check, recovery and pekko-persistence-jdbc's read journal.
 */
class GroupCommitJournalTest {

  private static final Duration ASK_TIMEOUT = Duration.ofSeconds(30);

  @TempDir Path directory;

  @Test
  void postgresTakesManySessionsAtOnceInFewCommits() throws Exception {
    JournalDatabase database = TestDatabases.postgres("portcullis_journal_sessions");
    int sessions = 48;
    int statements = 20;
    writeReadAndRecover(database, sessions, statements);
    try (Connection connection = database.connect()) {
      long commits = count(connection, "SELECT count(DISTINCT xmin::text) FROM event_journal");
      long appends = sessions * (statements + 2L);
      assertThat(commits).as("commits for %d appends", appends).isLessThan(appends / 2);
    }
  }

  @Test
  void h2TakesSessionsAndRecoversThem() throws Exception {
    writeReadAndRecover(TestDatabases.h2(directory), 6, 5);
  }

  @Test
  void postgresGoesOnFromWhatPekkoPersistenceJdbcWrote() throws Exception {
    goesOnFromPekkoPersistenceJdbc(TestDatabases.postgres("portcullis_journal_upgrade"));
  }

  @Test
  void h2GoesOnFromWhatPekkoPersistenceJdbcWrote() throws Exception {
    goesOnFromPekkoPersistenceJdbc(TestDatabases.h2(directory));
  }

  /**
   * A session journaled by pekko-persistence-jdbc's own plugin, as every gateway did before, is
   * recovered and continued by ours, and the rows of both are alike but for who wrote them when.
   */
  private static void goesOnFromPekkoPersistenceJdbc(JournalDatabase database) throws Exception {
    ActorTestKit before =
        ActorTestKit.create(
            "journal",
            ConfigFactory.parseString(
                    "pekko.persistence.journal.plugin = jdbc-journal\n"
                        + "jdbc-journal.use-shared-db = slick")
                .withFallback(config(database)));
    try {
      ActorRef<SessionJournal.Command> journal = before.spawn(SessionJournal.create("s-1"));
      append(before, journal, List.of(TestEvents.opened("s-1")))
          .thenCompose(done -> append(before, journal, TestEvents.statement(1)))
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
    } finally {
      before.shutdownTestKit();
    }

    ActorTestKit kit = testKit(database);
    try {
      ActorRef<SessionJournal.Command> journal = kit.spawn(SessionJournal.create("s-1"));
      append(kit, journal, TestEvents.statement(2))
          .thenCompose(done -> append(kit, journal, List.of(TestEvents.closed())))
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      try (Connection connection = database.connect()) {
        List<ChainCheck.Stored<SessionEvent>> events =
            new JournalReader(connection, kit.system()).events("s-1");
        assertThat(events).hasSize(1 + 3 + 3 + 1);
        assertThat(ChainCheck.check("s-1", events)).isEmpty();

        List<List<Object>> rows = new ArrayList<>();
        try (Statement statement = connection.createStatement();
            ResultSet stored =
                statement.executeQuery(
                    "SELECT \"sequence_number\", \"deleted\", \"adapter_manifest\","
                        + " \"event_ser_id\", \"event_ser_manifest\", \"meta_ser_id\","
                        + " \"meta_ser_manifest\", \"meta_payload\", \"writer\","
                        + " \"write_timestamp\" FROM \"event_journal\" ORDER BY \"ordering\"")) {
          while (stored.next()) {
            List<Object> row = new ArrayList<>();
            for (int column = 2; column <= 8; column++) {
              row.add(stored.getObject(column));
            }
            assertThat(stored.getString(9)).isNotBlank();
            assertThat(stored.getLong(10)).isPositive();
            rows.add(row);
          }
        }
        // Statement 1 written by pekko-persistence-jdbc, statement 2 by this plugin.
        assertThat(rows.subList(4, 7)).isEqualTo(rows.subList(1, 4));
      }
      List<EventEnvelope> tagged =
          PersistenceQuery.get(kit.system())
              .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier())
              .currentEventsByTag(SessionJournal.TAG, Offset.noOffset())
              .runWith(Sink.seq(), kit.system())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      assertThat(tagged)
          .extracting(EventEnvelope::sequenceNr)
          .as("the opening tagged by the one, the closing by the other")
          .containsExactly(1L, 8L);
    } finally {
      kit.shutdownTestKit();
    }
  }

  @Test
  void anUnreachableJournalFailsWritesAndTheSessionGoesOnOnceItIsBack() throws Exception {
    String name = "portcullis_journal_outage";
    JournalDatabase database = TestDatabases.postgres(name);
    ActorTestKit kit = testKit(database);
    try {
      ActorRef<SessionJournal.Command> journal = kit.spawn(SessionJournal.create("s-1"));
      append(kit, journal, List.of(TestEvents.opened("s-1")))
          .thenCompose(done -> append(kit, journal, TestEvents.statement(1)))
          .toCompletableFuture()
          .get(30, TimeUnit.SECONDS);

      TestProbe<Done> lost = kit.createTestProbe();
      try (Connection admin = TestDatabases.admin();
          Statement statement = admin.createStatement()) {
        statement.execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS false");
        statement.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
                + name
                + "'");
        try {
          journal.tell(new SessionJournal.Append(TestEvents.statement(2), lost.ref()));
          lost.expectNoMessage(Duration.ofSeconds(3));
        } finally {
          statement.execute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS true");
        }
      }

      TestProbe<Done> back = kit.createTestProbe();
      back.awaitAssert(
          Duration.ofSeconds(45),
          Duration.ofSeconds(1),
          () -> {
            journal.tell(new SessionJournal.Append(TestEvents.statement(3), back.ref()));
            return back.expectMessage(Duration.ofSeconds(2), Done.getInstance());
          });
      try (Connection connection = database.connect()) {
        List<ChainCheck.Stored<SessionEvent>> events =
            new JournalReader(connection, kit.system()).events("s-1");
        // Whole only if the entity recovered its head from the journal, without statement 2.
        assertThat(ChainCheck.check("s-1", events)).isEmpty();
        assertThat(events.stream().filter(stored -> mentions(stored.event(), 2)))
            .as("the statement appended while the journal was away")
            .isEmpty();
      }
    } finally {
      kit.shutdownTestKit();
    }
  }

  /**
   * {@code sessions} sessions write at once, each an opening, {@code statements} statements and a
   * closing, one append after the other; then another node recovers them and each goes on.
   */
  private static void writeReadAndRecover(JournalDatabase database, int sessions, int statements)
      throws Exception {
    ActorTestKit kit = testKit(database);
    try {
      List<CompletableFuture<Done>> written = new ArrayList<>();
      for (int i = 0; i < sessions; i++) {
        String session = "s-" + i;
        ActorRef<SessionJournal.Command> journal = kit.spawn(SessionJournal.create(session));
        CompletionStage<Done> chain = append(kit, journal, List.of(TestEvents.opened(session)));
        for (long number = 1; number <= statements; number++) {
          List<SessionEvent> events = TestEvents.statement(number);
          chain = chain.thenCompose(done -> append(kit, journal, events));
        }
        written.add(
            chain
                .thenCompose(done -> append(kit, journal, List.of(TestEvents.closed())))
                .toCompletableFuture());
      }
      CompletableFuture.allOf(written.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

      int perSession = 1 + 3 * statements + 1;
      Map<String, List<ChainCheck.Stored<SessionEvent>>> stored = new HashMap<>();
      try (Connection connection = database.connect()) {
        JournalReader reader = new JournalReader(connection, kit.system());
        assertThat(reader.sessions()).hasSize(sessions);
        for (String session : reader.sessions()) {
          List<ChainCheck.Stored<SessionEvent>> events = reader.events(session);
          assertThat(events)
              .extracting(ChainCheck.Stored::sequenceNumber)
              .containsExactlyElementsOf(sequence(perSession));
          assertThat(ChainCheck.check(session, events)).as(session).isEmpty();
          stored.put(session, events);
        }
      }

      JdbcReadJournal queries =
          PersistenceQuery.get(kit.system())
              .getReadJournalFor(JdbcReadJournal.class, JdbcReadJournal.Identifier());
      List<EventEnvelope> tagged =
          queries
              .currentEventsByTag(SessionJournal.TAG, Offset.noOffset())
              .runWith(Sink.seq(), kit.system())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      assertThat(tagged).hasSize(2 * sessions);
      for (EventEnvelope envelope : tagged) {
        String session = envelope.persistenceId().substring("Session|".length());
        if (envelope.event() instanceof SessionOpened opened) {
          assertThat(opened.session()).isEqualTo(session);
          assertThat(envelope.sequenceNr()).isEqualTo(1);
        } else {
          assertThat(envelope.event()).isInstanceOf(SessionClosed.class);
          assertThat(envelope.sequenceNr()).isEqualTo(perSession);
        }
      }
      List<Object> byId =
          queries
              .currentEventsByPersistenceId("Session|s-1", 0, Long.MAX_VALUE)
              .map(EventEnvelope::event)
              .runWith(Sink.seq(), kit.system())
              .toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
      assertThat(byId)
          .containsExactlyElementsOf(
              stored.get("s-1").stream().map(s -> (Object) s.event()).toList());
    } finally {
      kit.shutdownTestKit();
    }

    ActorTestKit restarted = testKit(database);
    try {
      List<CompletableFuture<Done>> resumed = new ArrayList<>();
      for (int i = 0; i < sessions; i++) {
        ActorRef<SessionJournal.Command> journal = restarted.spawn(SessionJournal.create("s-" + i));
        resumed.add(
            append(restarted, journal, TestEvents.statement(statements + 1)).toCompletableFuture());
      }
      CompletableFuture.allOf(resumed.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
      try (Connection connection = database.connect()) {
        JournalReader reader = new JournalReader(connection, restarted.system());
        for (String session : reader.sessions()) {
          List<ChainCheck.Stored<SessionEvent>> events = reader.events(session);
          assertThat(events).hasSize(1 + 3 * statements + 1 + 3);
          assertThat(ChainCheck.check(session, events))
              .as("%s goes on from its recovered head", session)
              .isEmpty();
        }
      }
    } finally {
      restarted.shutdownTestKit();
    }
  }

  private static ActorTestKit testKit(JournalDatabase database) {
    return ActorTestKit.create("journal", config(database));
  }

  private static Config config(JournalDatabase database) {
    return database.applyTo(
        ConfigFactory.parseString("pekko.actor.provider = local")
            .withFallback(ConfigFactory.load()));
  }

  private static CompletionStage<Done> append(
      ActorTestKit kit, ActorRef<SessionJournal.Command> journal, List<SessionEvent> events) {
    return AskPattern.ask(
        journal,
        replyTo -> new SessionJournal.Append(events, replyTo),
        ASK_TIMEOUT,
        kit.scheduler());
  }

  private static List<Long> sequence(int length) {
    List<Long> numbers = new ArrayList<>();
    for (long n = 1; n <= length; n++) {
      numbers.add(n);
    }
    return numbers;
  }

  private static boolean mentions(SessionEvent event, long statement) {
    return event instanceof SessionEvent.StatementReceived received
        && received.statement() == statement;
  }

  private static long count(Connection connection, String sql) throws Exception {
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }
}
