package io.portcullis.node.session;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslHandler;
import io.portcullis.node.audit.AuditLog;
import io.portcullis.node.audit.SessionMdc;
import io.portcullis.node.audit.SessionRecorder;
import io.portcullis.node.control.SessionControl;
import io.portcullis.node.masking.ExemptionEvent;
import io.portcullis.node.masking.IdentityMasking;
import io.portcullis.node.masking.ResultMasker;
import io.portcullis.node.pipeline.LocalClose;
import io.portcullis.node.pipeline.MaskingStage;
import io.portcullis.node.pipeline.SessionPipeline;
import io.portcullis.node.pipeline.SessionStages;
import io.portcullis.node.policy.SessionPolicy;
import io.portcullis.node.session.StartupNegotiation.Accepted;
import io.portcullis.node.upstream.UpstreamConnection;
import io.portcullis.persistence.CborSerializable;
import io.portcullis.persistence.audit.SessionEvent;
import io.portcullis.persistence.audit.SessionJournal;
import io.portcullis.policy.identity.Identity;
import io.portcullis.policy.identity.LoginAttempt;
import io.portcullis.policy.identity.LoginEvent;
import io.portcullis.policy.identity.LoginOutcome;
import io.portcullis.policy.masking.ContentScanner;
import io.portcullis.policy.masking.MaskStrategy;
import io.portcullis.policy.rules.Policy;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.BackendMessage.ErrorResponse;
import io.portcullis.protocol.FrontendDecoder;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.FrontendMessage.AuthenticationResponse;
import io.portcullis.protocol.ProtocolException;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.function.UnaryOperator;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.Materializer;

/**
 * One client connection, from its StartupMessage to its last byte. It authenticates the client,
 * registers the session cluster-wide (for cancel and administrative end), opens the upstream
 * connection with the gateway's credentials, and then runs the session's stream pipeline. The actor
 * stays off the hot path: once the pipeline runs, statements flow through stream stages and the
 * actor only handles control (cancel, end, completion).
 */
public final class SessionActor {

  public sealed interface Command {}

  /** A message the client sent before the pipeline took over its socket. */
  public record FromClient(FrontendMessage message) implements Command {}

  public record ClientDisconnected() implements Command {}

  /** Forward a CancelRequest to the upstream (sent by {@link SessionControl}). */
  public record CancelQuery() implements Command, CborSerializable {}

  /** End the session with 57P01 (sent by {@link SessionControl} for an administrator). */
  public record EndSession(String reason) implements Command, CborSerializable {}

  private record Registered(Optional<SessionControl.BackendKey> key) implements Command {}

  private record UpstreamReady(UpstreamConnection upstream) implements Command {}

  private record UpstreamFailed(Throwable cause) implements Command {}

  private record PipelineEnded() implements Command {}

  private record JournalOpened(UpstreamConnection upstream) implements Command {}

  private record JournalUnavailable(UpstreamConnection upstream, Throwable cause)
      implements Command {}

  private record JournalClosed() implements Command {}

  private record CredentialExpired() implements Command {}

  private static final Duration REGISTRATION_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration MAX_TIMER = Duration.ofDays(1);
  private static final Duration PIPELINE_END_TIMEOUT = Duration.ofSeconds(5);

  private final ActorContext<Command> context;
  private final String sessionId;
  private final Channel client;
  private final Accepted startup;
  private final SessionServices services;
  private final List<FrontendMessage> pending = new ArrayList<>();
  private Identity identity;
  private Optional<Instant> credentialExpiry = Optional.empty();
  private UpstreamConnection upstream;
  private int processId;
  private int secretKey;
  private ActorRef<SessionJournal.Command> journal;
  private SessionRecorder recorder;

  private SessionActor(
      ActorContext<Command> context,
      String sessionId,
      Channel client,
      Accepted startup,
      SessionServices services) {
    this.context = context;
    this.sessionId = sessionId;
    this.client = client;
    this.startup = startup;
    this.services = services;
  }

  /**
   * Every line the actor logs carries the session's id, from the first (a connection that never
   * becomes a session has one too, found only in the log).
   */
  public static Behavior<Command> create(
      Channel client, Accepted startup, SessionServices services) {
    String sessionId = UUID.randomUUID().toString();
    return SessionMdc.around(
        sessionId,
        Behaviors.setup(
            context ->
                new SessionActor(context, sessionId, client, startup, services).authenticate()));
  }

  private Behavior<Command> authenticate() {
    return login(Optional.empty());
  }

  private Behavior<Command> awaitingPassword() {
    client.writeAndFlush(BackendMessage.AuthenticationCleartextPassword.INSTANCE);
    client.read();
    return starting()
        .onMessage(ClientDisconnected.class, gone -> Behaviors.stopped())
        .onMessage(
            FromClient.class,
            from ->
                from.message() instanceof AuthenticationResponse response
                    ? loginWithPassword(response)
                    : fatal("08P01", "expected a password message"))
        .build();
  }

  private Behavior<Command> loginWithPassword(AuthenticationResponse response) {
    String password;
    try {
      password = response.password();
    } catch (ProtocolException malformed) {
      return fatal(malformed.sqlState(), malformed.getMessage());
    }
    return login(Optional.of(password));
  }

  private Behavior<Command> login(Optional<String> password) {
    SslHandler tls = client.pipeline().get(SslHandler.class);
    LoginAttempt attempt =
        new LoginAttempt(
            startup.user(),
            password,
            (InetSocketAddress) client.remoteAddress(),
            tls != null,
            tls == null ? Optional.empty() : clientCertificate(tls));
    LoginOutcome outcome = services.authenticator().authenticate(attempt);
    if (outcome instanceof LoginOutcome.PasswordRequired && password.isEmpty()) {
      return awaitingPassword();
    }
    if (outcome instanceof LoginOutcome.PasswordRequired) {
      outcome = new LoginOutcome.Rejected("28P01", "a password is required");
    }
    LoginEvent event =
        LoginEvent.of(
            attempt,
            startup.target().name(),
            outcome,
            services.authenticator().fingerprint(attempt));
    AuditLog.login(event);
    services.failedLogins().attempted(event);
    if (outcome instanceof LoginOutcome.Authenticated authenticated) {
      identity = authenticated.identity();
      credentialExpiry = authenticated.expiresAt();
      client.pipeline().get(FrontendDecoder.class).maxMessageBytes(services.maxMessageBytes());
      return register();
    }
    LoginOutcome.Rejected rejected = (LoginOutcome.Rejected) outcome;
    return fatal(rejected.sqlState(), rejected.reason());
  }

  private static Optional<X509Certificate> clientCertificate(SslHandler tls) {
    try {
      Certificate[] chain = tls.engine().getSession().getPeerCertificates();
      return Optional.of((X509Certificate) chain[0]);
    } catch (SSLPeerUnverifiedException noCertificate) {
      return Optional.empty();
    }
  }

  /** The node's session control hands out the BackendKeyData that cancels and ends it. */
  private Behavior<Command> register() {
    context.ask(
        SessionControl.Registration.class,
        services.control(),
        REGISTRATION_TIMEOUT,
        replyTo -> new SessionControl.Register(sessionId, context.getSelf(), replyTo),
        (registration, failure) ->
            failure == null
                ? new Registered(registration.key())
                : new Registered(Optional.empty()));
    return starting()
        .onMessage(ClientDisconnected.class, gone -> Behaviors.stopped())
        .onMessage(FromClient.class, this::hold)
        .onMessage(
            Registered.class,
            registered -> {
              if (registered.key().isEmpty()) {
                return fatal(
                    "57P01", "this gateway node is shutting down; connect again to reach another");
              }
              processId = registered.key().get().processId();
              secretKey = registered.key().get().secretKey();
              context.pipeToSelf(
                  services
                      .upstreams()
                      .connect(
                          startup.target(),
                          startup.target().loginFor(identity.groups()),
                          startup.target().setRoleFor(identity.subject()),
                          startup.upstreamParameters(),
                          client.eventLoop()),
                  (connection, failure) ->
                      failure == null
                          ? new UpstreamReady(connection)
                          : new UpstreamFailed(failure));
              return connecting();
            })
        .build();
  }

  private Behavior<Command> connecting() {
    return starting()
        .onMessage(ClientDisconnected.class, gone -> closingUnusedUpstream())
        .onMessage(FromClient.class, this::hold)
        .onMessage(
            UpstreamFailed.class,
            failed -> {
              context
                  .getLog()
                  .warn(
                      "cannot connect to target '{}': {}",
                      startup.target().name(),
                      failed.cause().toString());
              return fatal(
                  "08001",
                  "the gateway could not connect to target '"
                      + startup.target().name()
                      + "'; the gateway log has details");
            })
        .onMessage(UpstreamReady.class, ready -> openJournal(ready.upstream()))
        .build();
  }

  /**
   * The session's journal starts with who connected, from where and to what; the session begins
   * only once that is durable. A journal that cannot be written refuses the login.
   */
  private Behavior<Command> openJournal(UpstreamConnection connection) {
    upstream = connection;
    journal =
        context.spawn(
            SessionMdc.around(
                sessionId, SessionJournal.create(sessionId, Optional.of(services.ledger()))),
            "journal");
    recorder =
        new SessionRecorder(
            journal,
            context.getSystem(),
            services.audit().writeTimeout(),
            services.audit().sampleLimits(),
            services.metrics());
    context.pipeToSelf(
        recorder.append(List.of(opened())),
        (done, failure) ->
            failure == null
                ? new JournalOpened(connection)
                : new JournalUnavailable(connection, failure));
    return starting()
        .onMessage(ClientDisconnected.class, gone -> Behaviors.stopped())
        .onMessage(FromClient.class, this::hold)
        .onMessage(JournalOpened.class, opened -> active(opened.upstream()))
        .onMessage(
            JournalUnavailable.class,
            failed -> {
              context
                  .getLog()
                  .warn("the audit journal did not record a login: {}", failed.cause().toString());
              return fatal(
                  "57P03",
                  "the audit journal is unavailable, so no session can start; try again once it"
                      + " can be written");
            })
        .build();
  }

  private SessionEvent.SessionOpened opened() {
    InetSocketAddress address = (InetSocketAddress) client.remoteAddress();
    SslHandler tls = client.pipeline().get(SslHandler.class);
    Policy policy = services.policy().get();
    String role =
        startup
            .target()
            .setRoleFor(identity.subject())
            .orElse(startup.target().loginFor(identity.groups()).user());
    return new SessionEvent.SessionOpened(
        SessionEvent.SCHEMA_VERSION,
        Instant.now(),
        sessionId,
        services.audit().node(),
        identity.subject(),
        identity.issuer(),
        identity.groups().stream().sorted().toList(),
        identity.agent(),
        address.getAddress().getHostAddress(),
        address.getPort(),
        upstream.parameters().stream()
            .filter(status -> status.name().equals("application_name"))
            .map(BackendMessage.ParameterStatus::value)
            .findFirst()
            .orElse(""),
        tls == null ? Optional.empty() : Optional.of(tls.engine().getSession().getProtocol()),
        tls == null ? Optional.empty() : Optional.of(tls.engine().getSession().getCipherSuite()),
        startup.target().name(),
        role,
        policy.version(),
        policy.masking().forIdentity(identity).exemptions(),
        null);
  }

  /** Records how the session ended, then stops (at the latest after the write timeout). */
  private Behavior<Command> closing(String reason) {
    context.pipeToSelf(
        recorder.append(
            List.of(
                new SessionEvent.SessionClosed(
                    SessionEvent.SCHEMA_VERSION, Instant.now(), reason, null))),
        (done, failure) -> new JournalClosed());
    return Behaviors.receive(Command.class)
        .onMessage(JournalClosed.class, closed -> Behaviors.stopped())
        .onAnyMessage(other -> Behaviors.same())
        .onSignal(PostStop.class, this::closeChannels)
        .build();
  }

  private Behavior<Command> active(UpstreamConnection connection) {
    List<BackendMessage> greeting = new ArrayList<>();
    greeting.add(BackendMessage.AuthenticationOk.INSTANCE);
    greeting.addAll(connection.parameters());
    greeting.add(new BackendMessage.BackendKeyData(processId, secretKey));
    greeting.add(new BackendMessage.ReadyForQuery(connection.transactionStatus()));
    context
        .getLog()
        .info(
            "session {} opened for {} on target '{}'",
            processId,
            identity.subject(),
            startup.target().name());
    scheduleCredentialExpiry();
    context.pipeToSelf(
        SessionPipeline.run(
            sessionId,
            client,
            connection.channel(),
            greeting,
            List.copyOf(pending),
            stages(),
            services.dispatchers().on(client.eventLoop()),
            Materializer.matFromSystem(context.getSystem()),
            services.metrics()),
        (done, failure) -> new PipelineEnded());
    return Behaviors.receive(Command.class)
        .onMessage(
            CancelQuery.class,
            cancel -> {
              services.upstreams().cancel(startup.target(), connection.key(), client.eventLoop());
              return Behaviors.same();
            })
        .onMessage(
            EndSession.class,
            end ->
                ended(
                    "57P01",
                    "terminating connection due to administrator command: " + end.reason()))
        .onMessage(
            CredentialExpired.class,
            expired -> {
              if (Instant.now().isBefore(sessionEnd())) {
                scheduleCredentialExpiry();
                return Behaviors.same();
              }
              return ended(
                  "57P01",
                  "terminating connection: the session's credential expired at "
                      + credentialExpiry.orElseThrow()
                      + "; reconnect with a new token or certificate");
            })
        .onMessage(
            PipelineEnded.class,
            ended -> closing("the client or the upstream closed the connection"))
        .onSignal(PostStop.class, this::closeChannels)
        .build();
  }

  /**
   * Arranges for the session to end when its token or certificate expires, or a configured while
   * after that. Far expiries (a certificate valid for years) are checked again daily, as the
   * scheduler cannot wait that long in one step.
   */
  private void scheduleCredentialExpiry() {
    if (credentialExpiry.isEmpty()) {
      return;
    }
    Duration delay = Duration.between(Instant.now(), sessionEnd());
    context.scheduleOnce(
        delay.isNegative() ? Duration.ZERO : delay.compareTo(MAX_TIMER) > 0 ? MAX_TIMER : delay,
        context.getSelf(),
        new CredentialExpired());
  }

  private Instant sessionEnd() {
    return credentialExpiry.orElseThrow().plus(services.lifetime().graceAfterTokenExpiry());
  }

  private SessionStages stages() {
    SessionPolicy policy = sessionPolicy();
    return services.stages().create(policy, recorder, masking(policy), services.metrics());
  }

  private SessionPolicy sessionPolicy() {
    SessionPolicy policy =
        new SessionPolicy(
            sessionId,
            services.policy(),
            services.analyzer(),
            services.approvals(),
            services.catalogs(),
            identity,
            startup.target().name(),
            ((InetSocketAddress) client.remoteAddress()).getAddress(),
            displayMask(),
            services.clientDataSeal());
    upstream.parameters().forEach(status -> policy.parameterChanged(status.name(), status.value()));
    return policy;
  }

  /**
   * Bound values as the journal shows them: through the content detectors of the identity's masking
   * rules at the session's start.
   */
  private UnaryOperator<String> displayMask() {
    ContentScanner scanner =
        new ContentScanner(
            services.policy().get().masking().forIdentity(identity).detectors(), services.masker());
    return value -> {
      String masked = scanner.scan(value);
      return masked == null ? MaskStrategy.Redact.DEFAULT_TEXT : masked;
    };
  }

  /** Results masked under the policy their statements were judged under. */
  private MaskingStage masking(SessionPolicy judged) {
    String target = startup.target().name();
    ResultMasker masker =
        new ResultMasker(
            new IdentityMasking(
                judged::inForce,
                identity,
                (policy, exempt) ->
                    SessionMdc.run(
                        sessionId,
                        () ->
                            AuditLog.maskingExemption(
                                new ExemptionEvent(
                                    Instant.now(),
                                    sessionId,
                                    identity.subject(),
                                    identity.issuer(),
                                    identity.groups(),
                                    target,
                                    policy.version(),
                                    exempt)))),
            () -> services.catalogs().current(target),
            services.analyzer(),
            services.masker(),
            recorder);
    return new MaskingStage(
        masker, (sql, parameters) -> services.lineages().of(target, sql, parameters));
  }

  /** The client left while the upstream connection was being opened: close it when it arrives. */
  private Behavior<Command> closingUnusedUpstream() {
    return Behaviors.receive(Command.class)
        .onMessage(
            UpstreamReady.class,
            ready -> {
              upstream = ready.upstream();
              return Behaviors.stopped();
            })
        .onMessage(UpstreamFailed.class, failed -> Behaviors.stopped())
        .onSignal(PostStop.class, this::closeChannels)
        .build();
  }

  /** Behaviour shared by the states before the pipeline runs. */
  private org.apache.pekko.actor.typed.javadsl.BehaviorBuilder<Command> starting() {
    return Behaviors.receive(Command.class)
        .onMessage(CancelQuery.class, cancel -> Behaviors.same())
        .onMessage(EndSession.class, end -> fatal("57P01", end.reason()))
        .onSignal(PostStop.class, this::closeChannels);
  }

  private Behavior<Command> hold(FromClient from) {
    if (from.message() == FrontendMessage.Terminate.INSTANCE) {
      return Behaviors.stopped();
    }
    pending.add(from.message());
    return Behaviors.same();
  }

  /** Ends an active session with an error to the client, which the journal records. */
  /**
   * Tells the client why, closes its socket, and records the close once the pipeline has ended: it
   * may still journal a statement it read before the close, and the session's record must end with
   * SessionClosed.
   */
  private Behavior<Command> ended(String sqlState, String message) {
    client.writeAndFlush(ErrorResponse.fatal(sqlState, message));
    LocalClose.close(client);
    context.scheduleOnce(PIPELINE_END_TIMEOUT, context.getSelf(), new PipelineEnded());
    return Behaviors.receive(Command.class)
        .onMessage(PipelineEnded.class, pipelineEnded -> closing(message))
        .onAnyMessage(other -> Behaviors.same())
        .onSignal(PostStop.class, this::closeChannels)
        .build();
  }

  private Behavior<Command> fatal(String sqlState, String message) {
    client.writeAndFlush(ErrorResponse.fatal(sqlState, message));
    return Behaviors.stopped();
  }

  private Behavior<Command> closeChannels(PostStop stop) {
    LocalClose.close(client);
    if (upstream != null) {
      LocalClose.close(upstream.channel());
    }
    if (processId != 0) {
      context.getLog().info("session {} closed", processId);
    }
    return Behaviors.same();
  }
}
