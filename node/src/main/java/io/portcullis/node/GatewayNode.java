package io.portcullis.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.portcullis.node.admin.AdminApi;
import io.portcullis.node.admin.AdminServer;
import io.portcullis.node.admin.AuditReads;
import io.portcullis.node.approval.Approvals;
import io.portcullis.node.approval.WebhookNotifier;
import io.portcullis.node.audit.AuditLog;
import io.portcullis.node.audit.FailedLogins;
import io.portcullis.node.audit.PolicyVersions;
import io.portcullis.node.config.AuditSettings;
import io.portcullis.node.config.GatewaySettings;
import io.portcullis.node.config.TargetSettings;
import io.portcullis.node.control.SessionControl;
import io.portcullis.node.control.SessionEnder;
import io.portcullis.node.health.Readiness;
import io.portcullis.node.masking.Lineages;
import io.portcullis.node.metrics.GatewayMetrics;
import io.portcullis.node.pipeline.EventLoopDispatchers;
import io.portcullis.node.pipeline.SessionStages;
import io.portcullis.node.policy.CatalogReader;
import io.portcullis.node.policy.ClusterPolicy;
import io.portcullis.node.policy.PolicySource;
import io.portcullis.node.policy.TargetCatalogs;
import io.portcullis.node.replay.Replays;
import io.portcullis.node.server.ClientListener;
import io.portcullis.node.server.NettyTransport;
import io.portcullis.node.server.StartupHandler;
import io.portcullis.node.session.SessionActor;
import io.portcullis.node.session.SessionServices;
import io.portcullis.node.session.StartupNegotiation;
import io.portcullis.node.upstream.UpstreamConnector;
import io.portcullis.persistence.audit.ClientDataSeal;
import io.portcullis.persistence.audit.LedgerCheckpointer;
import io.portcullis.persistence.audit.LedgerKey;
import io.portcullis.persistence.audit.index.AuditIndexing;
import io.portcullis.persistence.journal.JournalDatabase;
import io.portcullis.policy.masking.ValueMasker;
import io.portcullis.policy.sql.SqlAnalyzer;
import io.portcullis.protocol.FrontendMessage.CancelRequest;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Join;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.management.cluster.bootstrap.ClusterBootstrap;
import org.apache.pekko.management.javadsl.PekkoManagement;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One running gateway: a Pekko Cluster member (a cluster of one unless seed nodes are configured)
 * with the client listener in front of it.
 */
public final class GatewayNode implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(GatewayNode.class);
  private static final Duration CLUSTER_JOIN_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration CATALOG_FIRST_READ = Duration.ofSeconds(10);
  private static final Duration LEDGER_FLUSH_TIMEOUT = Duration.ofSeconds(4);
  private static final Duration MANAGEMENT_START_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration DRAIN_MARGIN = Duration.ofSeconds(10);

  private final ActorSystem<Void> system;
  private final EventLoopGroup acceptors;
  private final EventLoopGroup workers;
  private final ClientListener listener;
  private final Optional<ServerBinding> admin;
  private final int managementPort;

  private GatewayNode(
      ActorSystem<Void> system,
      EventLoopGroup acceptors,
      EventLoopGroup workers,
      ClientListener listener,
      Optional<ServerBinding> admin,
      int managementPort) {
    this.system = system;
    this.acceptors = acceptors;
    this.workers = workers;
    this.listener = listener;
    this.admin = admin;
    this.managementPort = managementPort;
  }

  public static GatewayNode start(Config config) throws Exception {
    return start(config, SessionStages::enforcing);
  }

  /**
   * @param stages makes the stages of each new session's pipeline
   */
  public static GatewayNode start(Config config, SessionStages.Factory stages) throws Exception {
    GatewaySettings settings = GatewaySettings.from(config);
    PolicySource policy = PolicySource.load(settings.policy().file());
    JournalDatabase journal = JournalDatabase.from(config);
    for (TargetSettings target : settings.targets().values()) {
      if (journal.isStoredIn(target.host(), target.port(), target.database())) {
        throw new ConfigException.BadValue(
            "portcullis.journal.url",
            "the audit journal must be stored apart from the databases it audits, but it names"
                + " the database of target '"
                + target.name()
                + "'; give it a database of its own, on another server");
      }
    }
    try {
      journal.ensureSchema();
    } catch (SQLException e) {
      throw new IllegalStateException(
          "the journal database cannot be prepared ("
              + e.getMessage()
              + "); check portcullis.journal",
          e);
    }
    Duration drainDeadline = settings.cluster().drainDeadline();
    ActorSystem<Void> system =
        ActorSystem.create(
            Behaviors.empty(), "portcullis", drainFits(journal.applyTo(config), drainDeadline));
    try {
      Duration reload = settings.policy().reloadInterval();
      system
          .scheduler()
          .scheduleWithFixedDelay(
              reload, reload, policy::reloadIfChanged, system.executionContext());
      int managementPort = startManagement(system);
      joinCluster(system, settings.cluster().discovery());
      ClusterPolicy.start(system, policy, Cluster.get(system).selfMember().address().toString());
      AuditIndexing.start(
          system, journal, config.getDuration("portcullis.journal.index-poll-interval"));
      ActorRef<SessionControl.Command> control =
          system.systemActorOf(SessionControl.create(), "session-control", Props.empty());
      ClusterSharding sharding = ClusterSharding.get(system);
      AuditSettings audit =
          AuditSettings.from(
              config.getConfig("portcullis.journal"),
              Cluster.get(system).selfMember().address().toString());
      PolicyVersions.start(system, sharding, policy, audit.node());
      WebhookNotifier webhooks = new WebhookNotifier(settings.webhooks());
      system.getWhenTerminated().thenRun(webhooks::close);
      Approvals approvals =
          Approvals.start(
              system,
              approval -> {
                AuditLog.approvalRequested(approval);
                webhooks.announce(approval);
              });
      Optional<ServerBinding> admin =
          settings.admin().enabled()
              ? Optional.of(
                  AdminServer.start(
                      system,
                      settings.admin(),
                      new AdminApi(
                          approvals,
                          new AuditReads(journal, system),
                          settings.admin().auditorGroups(),
                          settings.admin().operatorGroups(),
                          new SessionEnder(control, system.scheduler()),
                          Replays.start(
                              system,
                              config.getStringList("portcullis.replay.groups"),
                              settings.targets().values()),
                          settings.approverTokens(),
                          system.dispatchers().lookup(DispatcherSelector.blocking()))))
              : Optional.empty();
      ScheduledExecutorService catalogReader =
          Executors.newSingleThreadScheduledExecutor(
              runnable -> {
                Thread thread = new Thread(runnable, "portcullis-catalog");
                thread.setDaemon(true);
                return thread;
              });
      TargetCatalogs catalogs =
          new TargetCatalogs(
              settings.targets(),
              CatalogReader::load,
              settings.policy().catalogRefreshInterval(),
              catalogReader);
      catalogs.start(CATALOG_FIRST_READ);
      system.getWhenTerminated().thenRun(catalogReader::shutdownNow);
      Lineages lineages =
          new Lineages(
              settings.targets(),
              catalogs,
              system.dispatchers().lookup(DispatcherSelector.blocking()));
      system.getWhenTerminated().thenRun(lineages::close);
      GatewayMetrics metrics = GatewayMetrics.get(system);
      NettyTransport transport = NettyTransport.best();
      EventLoopGroup acceptors = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
      EventLoopGroup workers =
          new MultiThreadIoEventLoopGroup(
              settings.listener().ioThreads(), transport.ioHandlerFactory());
      SessionServices services =
          new SessionServices(
              settings.clientAuthenticator(),
              new UpstreamConnector(settings.limits().maxMessageBytes(), transport.channel()),
              control,
              policy,
              new SqlAnalyzer(),
              approvals,
              catalogs,
              lineages,
              maskingKey(settings.policy().maskingKeyFile()),
              audit,
              clientDataSeal(audit.sealingKeyFile()),
              ledger(system, audit),
              FailedLogins.start(system),
              stages,
              EventLoopDispatchers.register(system, workers),
              settings.sessionLifetime(),
              settings.limits().maxMessageBytes(),
              metrics);
      ClientListener listener =
          ClientListener.bind(
              settings, acceptors, workers, transport, sessionFactory(system, services), metrics);
      drainOnShutdown(system, listener, control, drainDeadline);
      log.info(
          "Portcullis listening on {}:{} for targets {}",
          settings.listener().host(),
          listener.port(),
          settings.targets().keySet());
      admin.ifPresent(binding -> log.info("admin API on {}", binding.localAddress()));
      return new GatewayNode(system, acceptors, workers, listener, admin, managementPort);
    } catch (Exception | Error e) {
      system.terminate();
      throw e;
    }
  }

  private static ValueMasker maskingKey(Optional<Path> file) throws IOException {
    if (file.isPresent()) {
      try {
        return ValueMasker.fromKeyFile(file.get());
      } catch (IllegalArgumentException e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
    }
    log.info(
        "no portcullis.policy.masking-key-file: values masked with strategy hash are stable only"
            + " until this node restarts, and differ between nodes");
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return new ValueMasker(key);
  }

  private static ClientDataSeal clientDataSeal(Optional<Path> file) {
    if (file.isPresent()) {
      try {
        return ClientDataSeal.fromKeyFile(file.get());
      } catch (IOException | IllegalArgumentException e) {
        throw new ConfigException.BadValue(
            "portcullis.journal.sealing-key-file",
            e instanceof IOException ? "cannot read " + file.get() + ": " + e : e.getMessage());
      }
    }
    log.warn(
        "no portcullis.journal.sealing-key-file: bound parameter values are journaled masked only"
            + " and COPY data by its size, so sessions cannot be replayed with their original"
            + " values");
    return ClientDataSeal.none();
  }

  /**
   * The node's ledger checkpointer, which at shutdown checkpoints every head it was told. A node
   * local actor: checkpoints are per node.
   */
  private static ActorRef<LedgerCheckpointer.HeadMoved> ledger(
      ActorSystem<Void> system, AuditSettings audit) {
    LedgerKey key;
    if (audit.signingKeyFile().isPresent()) {
      try {
        key = LedgerKey.load(audit.signingKeyFile().get());
      } catch (IllegalArgumentException e) {
        throw new ConfigException.BadValue("portcullis.journal.signing-key-file", e.getMessage());
      }
    } else {
      key = LedgerKey.generate();
      log.warn(
          "no portcullis.journal.signing-key-file: ledger checkpoints are signed by key {}, made at"
              + " start and lost at restart, which `portcullis audit verify` cannot trust",
          key.fingerprint());
    }
    ActorRef<LedgerCheckpointer.Command> checkpointer =
        system.systemActorOf(
            LedgerCheckpointer.create(audit.node(), key, audit.checkpointInterval()),
            "ledger",
            Props.empty());
    CoordinatedShutdown.get(system)
        .addTask(
            CoordinatedShutdown.PhaseBeforeActorSystemTerminate(),
            "ledger-checkpoint",
            () ->
                AskPattern.ask(
                    checkpointer,
                    LedgerCheckpointer.Flush::new,
                    LEDGER_FLUSH_TIMEOUT,
                    system.scheduler()));
    return checkpointer.narrow();
  }

  /** Starts the management HTTP server (health, metrics, bootstrap); returns its port. */
  private static int startManagement(ActorSystem<Void> system) throws Exception {
    try {
      return PekkoManagement.get(system)
          .start()
          .toCompletableFuture()
          .get(MANAGEMENT_START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)
          .port();
    } catch (ExecutionException e) {
      throw new IllegalStateException(
          "the management endpoint (pekko.management.http) could not start: "
              + e.getCause().getMessage(),
          e.getCause());
    }
  }

  private static void joinCluster(ActorSystem<Void> system, GatewaySettings.Discovery discovery)
      throws InterruptedException {
    Cluster cluster = Cluster.get(system);
    if (discovery == GatewaySettings.Discovery.KUBERNETES_API) {
      ClusterBootstrap.get(system).start();
    } else if (system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    Instant deadline = Instant.now().plus(CLUSTER_JOIN_TIMEOUT);
    // WeaklyUp: joined while another member is unreachable (a node just died); it may serve.
    while (cluster.selfMember().status() != MemberStatus.up()
        && cluster.selfMember().status() != MemberStatus.weaklyUp()) {
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(
            "this node did not join the cluster within "
                + CLUSTER_JOIN_TIMEOUT.toSeconds()
                + "s; check pekko.cluster.seed-nodes");
      }
      Thread.sleep(20);
    }
  }

  /**
   * The service-requests-done phase of the coordinated shutdown waits for the drain, so it must
   * last longer than the drain deadline.
   */
  private static Config drainFits(Config config, Duration drainDeadline) {
    return ConfigFactory.parseMap(
            Map.of(
                "pekko.coordinated-shutdown.phases.service-requests-done.timeout",
                drainDeadline.plus(DRAIN_MARGIN).toMillis() + "ms"))
        .withFallback(config);
  }

  /**
   * On SIGTERM (or {@link #close()}): not ready, no new connections, open sessions may finish until
   * the deadline, the rest are ended with 57P01; then Pekko leaves the cluster.
   */
  private static void drainOnShutdown(
      ActorSystem<Void> system,
      ClientListener listener,
      ActorRef<SessionControl.Command> control,
      Duration deadline) {
    Readiness readiness = Readiness.get(system);
    readiness.accepting(true);
    CoordinatedShutdown shutdown = CoordinatedShutdown.get(system);
    shutdown.addTask(
        CoordinatedShutdown.PhaseBeforeServiceUnbind(),
        "not-ready",
        () -> {
          readiness.accepting(false);
          log.info(
              "shutting down: no new connections; open sessions may finish within {}", deadline);
          return CompletableFuture.completedFuture(Done.getInstance());
        });
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceUnbind(), "stop-listening", listener::closeAsync);
    shutdown.addTask(
        CoordinatedShutdown.PhaseServiceRequestsDone(),
        "drain-sessions",
        () ->
            AskPattern.ask(
                control,
                replyTo ->
                    new SessionControl.Drain(
                        deadline,
                        "this gateway node is shutting down; connect again to reach another",
                        replyTo),
                deadline.plus(DRAIN_MARGIN),
                system.scheduler()));
  }

  private static StartupHandler.SessionFactory sessionFactory(
      ActorSystem<Void> system, SessionServices services) {
    AtomicLong sessions = new AtomicLong();
    return new StartupHandler.SessionFactory() {
      @Override
      public ActorRef<SessionActor.Command> open(
          Channel client, StartupNegotiation.Accepted startup) {
        return system.systemActorOf(
            SessionActor.create(client, startup, services),
            "session-" + sessions.incrementAndGet(),
            Props.empty());
      }

      @Override
      public void cancel(CancelRequest request) {
        services
            .control()
            .tell(new SessionControl.Cancel(request.processId(), request.secretKey()));
      }
    };
  }

  public int port() {
    return listener.port();
  }

  /** The admin API's port, when it is enabled. */
  public int adminPort() {
    return AdminServer.port(admin.orElseThrow());
  }

  /** The management endpoint's port: /ready, /alive, /metrics. */
  public int managementPort() {
    return managementPort;
  }

  public ActorSystem<Void> system() {
    return system;
  }

  @Override
  public void close() {
    listener.close();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
    workers.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    acceptors.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
  }
}
