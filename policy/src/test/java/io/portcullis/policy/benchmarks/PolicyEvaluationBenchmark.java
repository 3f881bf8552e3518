package io.portcullis.policy.benchmarks;

import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.rules.Policy;
import io.portcullis.policy.rules.PolicyParser;
import io.portcullis.policy.rules.StatementContext;
import io.portcullis.policy.rules.Verdict;
import io.portcullis.policy.sql.SqlAnalyzer;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * What the policy stage pays per statement: lexing the text, the cached analysis of its shape, and
 * evaluating the 50 rules of {@code bench/policy/fifty-rules.yaml}. Each call sends different
 * constants, as pgbench does, so the cache is hit by shape, not by identical text. Run with {@code
 * bench/policy-evaluation.sh}; the issue budget is p99 < 50 µs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PolicyEvaluationBenchmark {

  @Param({"bench/policy/fifty-rules.yaml"})
  public String policyFile;

  private Policy policy;
  private SqlAnalyzer analyzer;
  private StatementContext context;

  @Setup
  public void setUp() throws Exception {
    policy = PolicyParser.parse(policyFile, Files.readString(Path.of(policyFile)));
    analyzer = new SqlAnalyzer();
    context =
        new StatementContext(
            new Identity("teller", "https://idp.bench", Set.of("tellers"), false),
            "main",
            InetAddress.getByName("10.1.2.3"),
            "pgbench",
            Instant.now());
  }

  @Benchmark
  public Verdict selectByKey() {
    int aid = ThreadLocalRandom.current().nextInt(1, 100_000);
    return policy.evaluateAll(
        context,
        analyzer.analyze("SELECT abalance FROM pgbench_accounts WHERE aid = " + aid + ";", true));
  }

  @Benchmark
  public Verdict updateByKey() {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    return policy.evaluateAll(
        context,
        analyzer.analyze(
            "UPDATE pgbench_accounts SET abalance = abalance + "
                + random.nextInt(-5000, 5000)
                + " WHERE aid = "
                + random.nextInt(1, 100_000)
                + ";",
            true));
  }
}
