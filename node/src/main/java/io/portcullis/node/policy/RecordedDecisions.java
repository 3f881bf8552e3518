package io.portcullis.node.policy;

import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.RecordedSession;
import io.portcullis.persistence.audit.RecordedSession.RecordedStatement;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionEvent.PolicyDecided;
import io.portcullis.persistence.audit.SessionEvent.StatementReceived;
import io.portcullis.policy.rules.Policy;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.protocol.FrontendMessage;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * A recorded session's statements judged again by the gateway's own {@link SessionPolicy}, under a
 * given policy, for the identity, client, application and target the session had and at the times
 * its statements arrived: what the gateway would have decided.
 */
public final class RecordedDecisions {

  private final SqlAnalyzer analyzer;
  private final TargetCatalogs catalogs;

  /**
   * @param catalogs the targets' catalogs, by which rules on tables cover views and functions
   */
  public RecordedDecisions(SqlAnalyzer analyzer, TargetCatalogs catalogs) {
    this.analyzer = analyzer;
    this.catalogs = catalogs;
  }

  /**
   * Each statement's decision, in the session's order, under the policy that {@code policies} gives
   * for the version the statement was recorded under (the candidate, for a what-if); null where no
   * decision results.
   */
  public List<PolicyDecided> judge(RecordedSession session, Function<String, Policy> policies) {
    SessionEvent.SessionOpened opened = session.opened();
    Policy[] current = new Policy[1];
    SessionPolicy judge =
        new SessionPolicy(
            opened.session(),
            () -> current[0],
            analyzer,
            null,
            catalogs,
            session.identity(),
            opened.target(),
            address(opened.clientAddress()),
            UnaryOperator.identity(),
            ClientDataSeal.none());
    judge.parameterChanged("application_name", opened.applicationName());
    List<PolicyDecided> decisions = new ArrayList<>(session.statements().size());
    for (RecordedStatement statement : session.statements()) {
      current[0] =
          policies.apply(
              statement.decided() == null
                  ? opened.policyVersion()
                  : statement.decided().policyVersion());
      decisions.add(decided(judge, statement.received()).orElse(null));
    }
    return decisions;
  }

  /**
   * Sends the statement's messages as its client did: a Query, a FunctionCall, or a Parse that is
   * judged on its own when refused there and otherwise at its Bind.
   */
  private static Optional<PolicyDecided> decided(SessionPolicy judge, StatementReceived received) {
    List<FrontendMessage> messages = new ArrayList<>(2);
    switch (received.protocol()) {
      case "simple" -> messages.add(new FrontendMessage.Query(received.sql()));
      case "function-call" -> {
        OptionalInt function = SessionPolicy.calledFunction(received.sql());
        if (function.isEmpty()) {
          // A record that names no function (edited?): nothing to judge, and that is reported.
          return Optional.empty();
        }
        messages.add(
            new FrontendMessage.FunctionCall(
                function.getAsInt(), new short[0], new byte[0][], (short) 0));
      }
      default -> {
        messages.add(
            new FrontendMessage.Parse(received.statementName(), received.sql(), new int[0]));
        messages.add(
            new FrontendMessage.Bind(
                received.portalName(),
                received.statementName(),
                new short[0],
                new byte[0][],
                new short[0]));
      }
    }
    for (FrontendMessage message : messages) {
      judge.judge(message, received.at());
      for (SessionEvent entry : judge.takeJournalEntries()) {
        if (entry instanceof PolicyDecided decided) {
          return Optional.of(decided);
        }
      }
    }
    return Optional.empty();
  }

  private static InetAddress address(String literal) {
    try {
      // A literal address: no name is looked up.
      return InetAddress.getByName(literal);
    } catch (UnknownHostException e) {
      return InetAddress.getLoopbackAddress();
    }
  }
}
