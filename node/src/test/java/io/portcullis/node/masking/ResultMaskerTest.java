package io.portcullis.node.masking;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.audit.Completions;
import io.portcullis.node.audit.ResultRecord;
import io.portcullis.node.policy.TargetCatalog;
import io.portcullis.persistence.audit.SessionEvent.StatementCompleted;
import io.portcullis.policy.catalog.CatalogDependencies;
import io.portcullis.policy.catalog.Relations;
import io.portcullis.policy.catalog.Relations.Relation;
import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import io.portcullis.policy.masking.ValueMasker;
import io.portcullis.policy.rules.PolicyParser;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.DataRow;
import io.portcullis.protocol.BackendMessage.RowDescription;
import io.portcullis.protocol.BackendMessage.RowDescription.Column;
import io.portcullis.protocol.FrontendMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The conversation a masker follows, message by message, without a network: which statement each
 * row belongs to, and what happens when that cannot be known.
 */
class ResultMaskerTest {

  private static final int CUSTOMERS = 16400;
  private static final int TEXT = 25;
  private static final Identity AGENT = new Identity("bot", "https://idp", Set.of("agents"), true);
  private static final TargetCatalog CATALOG =
      new TargetCatalog(
          CatalogDependencies.empty(),
          Relations.of(
              Map.of(
                  CUSTOMERS,
                  new Relation(
                      "bank",
                      "customers",
                      Relations.Kind.TABLE,
                      List.of("name", "ssn"),
                      List.of(TEXT, TEXT),
                      Set.of(),
                      Optional.empty()))));

  private final AtomicReference<SessionMasking> rules = new AtomicReference<>(rules("ssn"));

  /** Statements numbered from 1 as they are sent; what each returned, as the journal gets it. */
  private final List<StatementCompleted> completed = new ArrayList<>();

  /** How many values the masker reported replacing. */
  private int masked;

  private final Completions completions =
      new Completions() {
        private long statements;

        @Override
        public long nextForwarded() {
          return ++statements;
        }

        @Override
        public ResultRecord.Limits limits() {
          return new ResultRecord.Limits(1, 1024);
        }

        @Override
        public void completed(StatementCompleted event) {
          completed.add(event);
        }

        @Override
        public void masked(int values) {
          masked += values;
        }
      };

  private final ResultMasker masker =
      new ResultMasker(
          rules::get,
          () -> Optional.of(CATALOG),
          new SqlAnalyzer(),
          new ValueMasker(new byte[32]),
          completions);

  private static SessionMasking rules(String... columns) {
    StringBuilder policy = new StringBuilder("default: allow\nmasking:\n  columns:\n");
    for (String column : columns) {
      policy.append(
          "    - {id: %1$s, columns: [bank.customers.%1$s], strategy: redact}\n".formatted(column));
    }
    try {
      return PolicyParser.parse("p.yaml", policy.toString()).masking().forIdentity(AGENT);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static final RowDescription NAME_AND_SSN =
      new RowDescription(
          List.of(
              new Column("name", CUSTOMERS, (short) 1, TEXT, (short) -1, -1, (short) 0),
              new Column("ssn", CUSTOMERS, (short) 2, TEXT, (short) -1, -1, (short) 0)));

  private static DataRow row(String... values) {
    return new DataRow(
        Arrays.stream(values)
            .map(v -> v == null ? null : v.getBytes(StandardCharsets.UTF_8))
            .toArray(byte[][]::new));
  }

  private static List<String> values(BackendMessage message) {
    return Arrays.stream(((DataRow) message).values())
        .map(v -> v == null ? null : new String(v, StandardCharsets.UTF_8))
        .toList();
  }

  private BackendMessage back(BackendMessage message) {
    assertThat(masker.lineageNeeded(message)).as("plain table columns need no plan").isNull();
    return masker.onBackend(message);
  }

  private void front(FrontendMessage... messages) {
    for (FrontendMessage message : messages) {
      masker.onFrontend(message);
    }
  }

  @Test
  void aStatementDescribedOnceIsMaskedAtEveryExecutionEvenAfterThePolicyChanges() {
    front(
        new FrontendMessage.Parse("s1", "SELECT name, ssn FROM bank.customers", new int[0]),
        new FrontendMessage.Describe('S', "s1"),
        FrontendMessage.Sync.INSTANCE);
    back(BackendMessage.ParseComplete.INSTANCE);
    back(new BackendMessage.ParameterDescription(new int[0]));
    back(NAME_AND_SSN);
    back(new BackendMessage.ReadyForQuery('I'));
    for (int execution = 0; execution < 2; execution++) {
      front(
          new FrontendMessage.Bind("", "s1", new short[0], new byte[0][], new short[0]),
          new FrontendMessage.Execute("", 0),
          FrontendMessage.Sync.INSTANCE);
      back(BackendMessage.BindComplete.INSTANCE);
      List<String> seen = values(back(row("Alice", "123-45-6789")));
      back(new BackendMessage.CommandComplete("SELECT 1"));
      back(new BackendMessage.ReadyForQuery('I'));
      if (execution == 0) {
        assertThat(seen).containsExactly("Alice", "****");
        rules.set(rules("ssn", "name"));
      } else {
        assertThat(seen).as("a rule added by a reload").containsExactly("****", "****");
      }
    }
  }

  @Test
  void reportsHowManyValuesItReplaced() {
    front(new FrontendMessage.Query("SELECT name, ssn FROM bank.customers"));
    back(NAME_AND_SSN);
    back(row("Alice", "123-45-6789"));
    back(row("Bob", null));
    back(row("Carol", "345-67-8912"));
    assertThat(masked).as("two SSNs; a NULL stays NULL and is not counted").isEqualTo(2);
  }

  @Test
  void anErrorSkipsTheRestOfTheBatchSoTheNextResultIsMatchedToItsOwnStatement() {
    front(
        new FrontendMessage.Parse("", "SELECT broken", new int[0]),
        new FrontendMessage.Bind("", "", new short[0], new byte[0][], new short[0]),
        new FrontendMessage.Describe('P', ""),
        new FrontendMessage.Execute("", 0),
        FrontendMessage.Sync.INSTANCE,
        new FrontendMessage.Query("SELECT name, ssn FROM bank.customers"));
    back(BackendMessage.ErrorResponse.fatal("42703", "column \"broken\" does not exist"));
    back(new BackendMessage.ReadyForQuery('I'));
    back(NAME_AND_SSN);
    assertThat(values(back(row("Bob", "234-56-7891")))).containsExactly("Bob", "****");
  }

  @Test
  void eachStatementOfASimpleQueryHasItsOwnColumns() {
    front(new FrontendMessage.Query("SELECT 1; SELECT name, ssn FROM bank.customers"));
    RowDescription one =
        new RowDescription(List.of(new Column("one", 0, (short) 0, 23, (short) 4, -1, (short) 0)));
    // The query reads a protected table, so its computed column is planned, by itself.
    assertThat(masker.lineageNeeded(one)).isEqualTo(new LineageRequest("SELECT 1", 0));
    masker.lineageKnown(List.of(new ColumnLineage(Set.of(), Set.of(), true)));
    masker.onBackend(one);
    assertThat(values(back(row("1")))).containsExactly("1");
    back(new BackendMessage.CommandComplete("SELECT 1"));
    back(NAME_AND_SSN);
    assertThat(values(back(row("Carol", "345-67-8912")))).containsExactly("Carol", "****");
    back(row("Dora", "456-78-9123"));
    back(new BackendMessage.CommandComplete("SELECT 2"));
    assertThat(completed).hasSize(2);
    StatementCompleted second = completed.get(1);
    assertThat(second.statement()).as("one journal number per query").isEqualTo(1);
    assertThat(second.commandTag()).contains("SELECT 2");
    assertThat(second.rows()).isEqualTo(2);
    assertThat(second.sample())
        .as("the first row only, masked")
        .containsExactly(List.of("Carol", "****"));
    assertThat(second.sampleComplete()).isFalse();
    assertThat(second.resultDigest())
        .matches("[0-9a-f]{64}")
        .isNotEqualTo(completed.get(0).resultDigest());
  }

  @Test
  void rowsOfAnUnknownResultAreAllNull() {
    front(
        new FrontendMessage.Bind("p", "never-parsed", new short[0], new byte[0][], new short[0]),
        new FrontendMessage.Execute("p", 0));
    back(BackendMessage.BindComplete.INSTANCE);
    assertThat(values(back(row("Dan", "456-78-9123")))).containsExactly(null, null);
  }

  @Test
  void aFastPathCallReturnsNullWhileColumnRulesAreInForce() {
    front(new FrontendMessage.FunctionCall(1, new short[0], new byte[0][], (short) 0));
    BackendMessage response =
        back(new BackendMessage.FunctionCallResponse("123-45-6789".getBytes()));
    assertThat(((BackendMessage.FunctionCallResponse) response).value()).isNull();
  }

  /**
   * A fast-path call's ReadyForQuery ends the call alone: a query sent behind it, before that
   * answer came, keeps its place, and its rows are masked.
   */
  @Test
  void aQueryPipelinedBehindAFastPathCallIsMasked() {
    String sql = "SELECT replace(ssn, '-', '') FROM bank.customers";
    front(
        new FrontendMessage.FunctionCall(1, new short[0], new byte[0][], (short) 0),
        new FrontendMessage.Query(sql));
    back(new BackendMessage.FunctionCallResponse(null));
    back(new BackendMessage.ReadyForQuery('I'));
    RowDescription computed =
        new RowDescription(
            List.of(new Column("replace", 0, (short) 0, TEXT, (short) -1, -1, (short) 0)));
    assertThat(masker.lineageNeeded(computed))
        .as("the query's text is still known")
        .isEqualTo(new LineageRequest(sql, 0));
    masker.lineageKnown(
        List.of(
            new ColumnLineage(
                Set.of(new SourceColumn("bank", "customers", "ssn")), Set.of(), true)));
    masker.onBackend(computed);
    assertThat(values(back(row("567891234")))).containsExactly("****");
  }
}
