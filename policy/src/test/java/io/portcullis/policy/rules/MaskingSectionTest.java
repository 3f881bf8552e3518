package io.portcullis.policy.rules;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.masking.ColumnRef;
import io.portcullis.policy.masking.ColumnRule;
import io.portcullis.policy.masking.DetectorKind;
import io.portcullis.policy.masking.DetectorRule;
import io.portcullis.policy.masking.MaskStrategy;
import io.portcullis.policy.masking.MaskingPolicy;
import io.portcullis.policy.masking.MaskingPolicy.SessionMasking;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MaskingSectionTest {

  private static MaskingPolicy masking(String section) throws PolicyException {
    return PolicyParser.parse("policy.yaml", "default: allow\nmasking:\n" + section).masking();
  }

  private static List<String> problems(String section) {
    try {
      PolicyParser.parse("policy.yaml", "default: allow\nmasking:\n" + section);
    } catch (PolicyException e) {
      return e.problems().stream().map(p -> p.message()).toList();
    }
    throw new AssertionError("the policy was accepted:\n" + section);
  }

  @Test
  void withoutMaskingSectionNothingIsMasked() throws Exception {
    assertThat(PolicyParser.parse("p.yaml", "default: allow\n").masking())
        .isEqualTo(MaskingPolicy.NONE);
  }

  @Test
  void columnRuleIsRead() throws Exception {
    MaskingPolicy masking =
        masking(
            """
              columns:
                - id: ssn
                  columns: [bank.customers.ssn, '"Cards"."PAN"', accounts.iban]
                  strategy: partial
                  keep: 2
                  exempt-groups: [fraud]
                  unknown-lineage: clear
                  deny-predicates-for: contractors
            """);
    ColumnRule rule = masking.columns().get(0);
    assertThat(rule.id()).isEqualTo("ssn");
    assertThat(rule.columns())
        .containsExactly(
            new ColumnRef(Optional.of("bank"), "customers", "ssn"),
            new ColumnRef(Optional.empty(), "Cards", "PAN"),
            new ColumnRef(Optional.empty(), "accounts", "iban"));
    assertThat(rule.strategy()).isEqualTo(new MaskStrategy.Partial(2));
    assertThat(rule.exemptGroups()).containsExactly("fraud");
    assertThat(rule.maskUnknownLineage()).isFalse();
    assertThat(rule.denyPredicatesFor()).containsExactly("contractors");
    assertThat(rule.protects("other", "accounts", "iban")).isTrue();
    assertThat(rule.protects("other", "customers", "ssn")).isFalse();
  }

  @Test
  void strategiesHaveDefaults() throws Exception {
    MaskingPolicy masking =
        masking(
            """
              columns:
                - {id: a, columns: t.a, strategy: partial}
                - {id: b, columns: t.b, strategy: redact}
                - {id: c, columns: t.c, strategy: redact, text: "[x]"}
                - {id: d, columns: t.d, strategy: hash}
                - {id: e, columns: t.e, strategy: "NULL"}
            """
                .replace("[x]", "SSN-HIDDEN"));
    assertThat(masking.columns())
        .extracting(ColumnRule::strategy)
        .containsExactly(
            new MaskStrategy.Partial(4),
            new MaskStrategy.Redact("****"),
            new MaskStrategy.Redact("SSN-HIDDEN"),
            new MaskStrategy.Hash(),
            new MaskStrategy.Nullify());
    assertThat(masking.columns()).allMatch(ColumnRule::maskUnknownLineage);
  }

  @Test
  void detectorsAreRead() throws Exception {
    MaskingPolicy masking =
        masking(
            """
              detectors:
                - {id: cards, kind: card, strategy: partial}
                - {id: accounts, kind: pattern, pattern: 'ACC-[0-9]{8}', strategy: hash,
                   exempt-groups: [ops]}
            """);
    assertThat(masking.detectors())
        .extracting(DetectorRule::kind)
        .containsExactly(DetectorKind.CARD, DetectorKind.PATTERN);
    assertThat(masking.detectors().get(1).pattern().orElseThrow().pattern())
        .isEqualTo("ACC-[0-9]{8}");
  }

  @Test
  void exemptIdentitiesAreNamedAndNotMasked() throws Exception {
    MaskingPolicy masking =
        masking(
            """
              columns:
                - {id: ssn, columns: customers.ssn, strategy: redact, exempt-groups: [fraud]}
                - {id: pan, columns: cards.pan, strategy: partial}
              detectors:
                - {id: mails, kind: email, strategy: hash, exempt-groups: [fraud]}
            """);
    SessionMasking investigator =
        masking.forIdentity(new Identity("ina", "https://idp", Set.of("fraud"), false));
    assertThat(investigator.columns()).extracting(ColumnRule::id).containsExactly("pan");
    assertThat(investigator.detectors()).isEmpty();
    assertThat(investigator.exemptions()).containsExactly("ssn", "mails");
    SessionMasking agent =
        masking.forIdentity(new Identity("bot", "https://idp", Set.of("agents"), true));
    assertThat(agent.columns()).hasSize(2);
    assertThat(agent.exemptions()).isEmpty();
    assertThat(agent.ruleFor("public", "customers", "ssn").id()).isEqualTo("ssn");
    assertThat(agent.ruleFor("public", "customers", "name")).isNull();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          columns: [{id: a, strategy: redact}]                              | needs columns
          columns: [{id: a, columns: ssn, strategy: redact}]                | must name a column
          columns: [{id: a, columns: a.b.c.d, strategy: redact}]            | more than three parts
          columns: [{columns: t.a, strategy: redact}]                       | needs an id
          columns: [{id: a, columns: t.a}]                                  | needs a strategy
          columns: [{id: a, columns: t.a, strategy: blur}]                  | must be one of
          columns: [{id: a, columns: t.a, strategy: hash, keep: 2}]         | keep applies only
          columns: [{id: a, columns: t.a, strategy: partial, keep: 0}]      | above zero
          columns: [{id: a, columns: t.a, strategy: partial, text: x}]      | text applies only
          columns: [{id: a, columns: t.a, strategy: redact, text: 'a b'}]   | 1 to 64 letters
          columns: [{id: a, columns: t.a, strategy: redact, colour: red}]   | unknown key 'colour'
          columns: [{id: a, columns: t.a, strategy: null, unknown-lineage: maybe}] | clear, mask
          detectors: [{id: a, kind: retina, strategy: redact}]              | must be one of
          detectors: [{id: a, strategy: redact}]                            | needs a kind
          detectors: [{id: a, kind: pattern, strategy: redact}]             | only by, kind: pattern
          detectors: [{id: a, kind: card, pattern: x, strategy: redact}]    | only by, kind: pattern
          detectors: [{id: a, kind: pattern, pattern: '(', strategy: hash}] | not a valid regular
          columns: [{id: a, columns: t.a, strategy: hash}]\\ndetectors: [{id: a, kind: ssn, strategy: hash}] | used twice
          colours: []                                                       | unknown key 'colours'
          """)
  void badMaskingSectionsAreExplained(String section, String expected) {
    assertThat(problems("  " + section.replace("\\n", "\n  ") + "\n"))
        .anySatisfy(problem -> assertThat(problem).contains(expected));
  }
}
