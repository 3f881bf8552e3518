package io.portcullis.node.session;

import io.portcullis.node.approval.Approvals;
import io.portcullis.node.audit.FailedLogins;
import io.portcullis.node.config.AuditSettings;
import io.portcullis.node.control.SessionControl;
import io.portcullis.node.masking.Lineages;
import io.portcullis.node.metrics.GatewayMetrics;
import io.portcullis.node.pipeline.EventLoopDispatchers;
import io.portcullis.node.pipeline.SessionStages;
import io.portcullis.node.policy.PolicySource;
import io.portcullis.node.policy.TargetCatalogs;
import io.portcullis.node.upstream.UpstreamConnector;
import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.LedgerCheckpointer;
import io.portcullis.policy.identity.ClientAuthenticator;
import io.portcullis.policy.masking.ValueMasker;
import io.portcullis.policy.sql.SqlAnalyzer;
import org.apache.pekko.actor.typed.ActorRef;

/** What every session of a node shares. */
public record SessionServices(
    ClientAuthenticator authenticator,
    UpstreamConnector upstreams,
    ActorRef<SessionControl.Command> control,
    PolicySource policy,
    SqlAnalyzer analyzer,
    Approvals approvals,
    TargetCatalogs catalogs,
    Lineages lineages,
    ValueMasker masker,
    AuditSettings audit,
    ClientDataSeal clientDataSeal,
    ActorRef<LedgerCheckpointer.HeadMoved> ledger,
    FailedLogins failedLogins,
    SessionStages.Factory stages,
    EventLoopDispatchers dispatchers,
    SessionLifetime lifetime,
    int maxMessageBytes,
    GatewayMetrics metrics) {}
