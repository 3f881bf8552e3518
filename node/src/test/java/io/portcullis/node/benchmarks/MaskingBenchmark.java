package io.portcullis.node.benchmarks;

import io.portcullis.node.audit.Completions;
import io.portcullis.node.audit.ResultRecord;
import io.portcullis.node.masking.ResultMasker;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What masking costs per row of six columns, with the masking section of {@code bench/masking.sh}
 * (two protected columns, card and SSN detectors on). {@code passThrough} is the path without a
 * masking stage; {@code unprotectedRow} is a row of a table with no protected column and nothing a
 * detector finds, whose text values the detectors still read. Run with {@code MODULE=node
 * bench/jmh.sh MaskingBenchmark -prof gc}: the budget is no allocation beyond the pass-through path
 * ({@code gc.alloc.rate.norm}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class MaskingBenchmark {

  private static final String POLICY =
      """
      default: allow
      masking:
        columns:
          - {id: ssn, columns: [bench.customers.ssn], strategy: partial, keep: 4}
          - {id: pan, columns: [bench.customers.pan], strategy: hash}
        detectors:
          - {id: cards, kind: card, strategy: partial}
          - {id: ssns, kind: ssn, strategy: redact}
      """;
  private static final int CUSTOMERS = 16384;
  private static final int LEDGER = 16385;
  private static final int INT4 = 23;
  private static final int TEXT = 25;
  private static final int NUMERIC = 1700;
  private static final int DATE = 1082;

  /** Masking alone: the statements have no journal numbers, so no result is recorded. */
  private static final Completions NOT_JOURNALED =
      new Completions() {
        @Override
        public long nextForwarded() {
          return 0;
        }

        @Override
        public ResultRecord.Limits limits() {
          return new ResultRecord.Limits(0, 0);
        }

        @Override
        public void completed(StatementCompleted event) {
          throw new AssertionError("nothing is journaled here");
        }

        @Override
        public void masked(int values) {}
      };

  private ResultMasker unprotected;
  private ResultMasker protectedColumns;
  private DataRow ledgerRow;
  private DataRow customerRow;

  @Setup
  public void setUp() throws Exception {
    SessionMasking rules =
        PolicyParser.parse("bench.yaml", POLICY)
            .masking()
            .forIdentity(new Identity("bench", "https://idp.bench", Set.of("agents"), true));
    List<String> names = List.of("id", "name", "ssn", "pan", "amount", "opened");
    List<Integer> types = List.of(INT4, TEXT, TEXT, TEXT, NUMERIC, DATE);
    Relations relations =
        Relations.of(
            Map.of(
                CUSTOMERS,
                new Relation(
                    "bench",
                    "customers",
                    Relations.Kind.TABLE,
                    names,
                    types,
                    Set.of(),
                    Optional.empty()),
                LEDGER,
                new Relation(
                    "bench",
                    "ledger",
                    Relations.Kind.TABLE,
                    names,
                    types,
                    Set.of(),
                    Optional.empty())));
    TargetCatalog catalog = new TargetCatalog(CatalogDependencies.empty(), relations);
    ValueMasker masker = new ValueMasker(new byte[32]);
    unprotected = masker(rules, catalog, masker, LEDGER, "SELECT * FROM bench.ledger");
    protectedColumns = masker(rules, catalog, masker, CUSTOMERS, "SELECT * FROM bench.customers");
    ledgerRow =
        new DataRow(
            new byte[][] {
              ascii("42"),
              ascii("customer 42"),
              ascii("branch north, desk 7"),
              ascii("standard account"),
              ascii("1234.56"),
              ascii("2026-11-25")
            });
    customerRow =
        new DataRow(
            new byte[][] {
              ascii("42"),
              ascii("customer 42"),
              ascii("123-45-6789"),
              ascii("4111111111111111"),
              ascii("1234.56"),
              ascii("2026-11-25")
            });
  }

  private static ResultMasker masker(
      SessionMasking rules, TargetCatalog catalog, ValueMasker masker, int table, String sql) {
    ResultMasker result =
        new ResultMasker(
            () -> rules, () -> Optional.of(catalog), new SqlAnalyzer(), masker, NOT_JOURNALED);
    result.onFrontend(new FrontendMessage.Query(sql));
    List<Column> columns =
        List.of(
            column("id", table, 1, INT4),
            column("name", table, 2, TEXT),
            column("ssn", table, 3, TEXT),
            column("pan", table, 4, TEXT),
            column("amount", table, 5, NUMERIC),
            column("opened", table, 6, DATE));
    RowDescription description = new RowDescription(columns);
    result.lineageNeeded(description);
    result.onBackend(description);
    return result;
  }

  private static Column column(String name, int table, int number, int type) {
    return new Column(name, table, (short) number, type, (short) -1, -1, (short) 0);
  }

  private static byte[] ascii(String text) {
    return text.getBytes(StandardCharsets.US_ASCII);
  }

  @Benchmark
  public BackendMessage passThrough() {
    return ledgerRow;
  }

  @Benchmark
  public BackendMessage unprotectedRow() {
    unprotected.lineageNeeded(ledgerRow);
    return unprotected.onBackend(ledgerRow);
  }

  @Benchmark
  public BackendMessage twoMaskedColumns() {
    protectedColumns.lineageNeeded(customerRow);
    return protectedColumns.onBackend(customerRow);
  }
}
