package io.portcullis.node.audit;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.ConfigFactory;
import io.portcullis.node.testing.Cli;
import io.portcullis.node.testing.RecordedBank;
import io.portcullis.node.testing.TestPostgres;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.serialization.Serialization;
import org.apache.pekko.serialization.SerializationExtension;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/** {@code portcullis audit conformance} over a journal recorded through the gateway. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConformanceTest {

  @TempDir static Path dir;
  private static RecordedBank bank;

  @BeforeAll
  static void record() throws Exception {
    bank = RecordedBank.record(dir, "conformance");
  }

  @AfterAll
  static void stop() {
    bank.close();
  }

  private static Cli.Run conformance() {
    return Cli.portcullis(
        "audit",
        "conformance",
        "--config",
        bank.config.toString(),
        "--since",
        "2000-01-01T00:00:00Z");
  }

  @Test
  @Order(1)
  void everyRecordedDecisionConformsToItsPolicy() {
    Cli.Run run = conformance();

    assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
    assertThat(run.out())
        .endsWith("1 sessions, 12 statements: every decision conforms to its policy");
  }

  @Test
  @Order(2)
  void aDecisionEditedByHandIsFlaggedAsWellAsTheBrokenChain() throws Exception {
    editDecision("DROP TABLE replay_bank.customers");

    Cli.Run run = conformance();

    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(1);
    assertThat(run.out())
        .contains("BROKEN session " + bank.session)
        .containsPattern(
            "DIFFERS session "
                + bank.session
                + " statement 11: recorded allow \\(default\\), policy sha256:[0-9a-f]{12} decides"
                + " deny by no-ddl\n    DROP TABLE replay_bank.customers")
        .containsPattern(
            "1 sessions, 12 statements: 1 differ; but \\d+ breaks in the journal's chains: what"
                + " was edited there is not proven \\(audit verify\\)$");
  }

  @Test
  @Order(3)
  void aStatementThatRanThoughRecordedAsDeniedIsFlagged() throws Exception {
    editDecision("SELECT upper(name), ssn FROM replay_bank.customers ORDER BY id", "deny");

    Cli.Run run = conformance();

    assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(1);
    assertThat(run.out())
        .contains("recorded deny, yet it returned a result without error: it ran")
        .contains("recorded deny (default), policy sha256:");
  }

  /** Rewrites the statement's PolicyDecided as an allow by the default, as a forger would. */
  private static void editDecision(String sql) throws Exception {
    editDecision(sql, "allow");
  }

  /** Rewrites the statement's PolicyDecided as {@code decision} by the default. */
  private static void editDecision(String sql, String decision) throws Exception {
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(),
            "edit",
            ConfigFactory.parseString("pekko.actor.provider = local")
                .withFallback(ConfigFactory.load()));
    try (Connection journal = TestPostgres.direct(bank.journalDatabase)) {
      Serialization serialization = SerializationExtension.get(system);
      long statement = -1;
      PolicyDecided decided = null;
      long sequence = -1;
      try (PreparedStatement events =
          journal.prepareStatement(
              "SELECT sequence_number, event_ser_id, event_ser_manifest, event_payload"
                  + " FROM event_journal WHERE persistence_id = ? ORDER BY sequence_number"); ) {
        events.setString(1, "Session|" + bank.session);
        try (ResultSet rows = events.executeQuery()) {
          while (rows.next()) {
            Object event =
                serialization
                    .deserialize(rows.getBytes(4), rows.getInt(2), rows.getString(3))
                    .get();
            if (event instanceof io.portcullis.persistence.audit.SessionEvent.StatementReceived r
                && r.sql().equals(sql)) {
              statement = r.statement();
            } else if (event instanceof PolicyDecided d && d.statement() == statement) {
              decided = d;
              sequence = rows.getLong(1);
            }
          }
        }
      }
      PolicyDecided forged =
          new PolicyDecided(
              decided.schema(),
              decided.at(),
              decided.statement(),
              decision,
              List.of(),
              decided.policyVersion(),
              "",
              decided.tables(),
              decided.approvalId(),
              decided.previousHash());
      try (PreparedStatement update =
          journal.prepareStatement(
              "UPDATE event_journal SET event_payload = ? WHERE persistence_id = ?"
                  + " AND sequence_number = ?")) {
        update.setBytes(1, serialization.serialize(forged).get());
        update.setString(2, "Session|" + bank.session);
        update.setLong(3, sequence);
        assertThat(update.executeUpdate()).isEqualTo(1);
      }
    } finally {
      system.terminate();
    }
  }
}
