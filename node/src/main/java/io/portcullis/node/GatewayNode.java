package io.portcullis.node;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
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
import io.portcullis.node.masking.Lineages;
import io.portcullis.node.metrics.GatewayMetrics;
import io.portcullis.node.pipeline.EventLoopDispatchers;
import io.portcullis.node.pipeline.SessionStages;
import io.portcullis.node.policy.CatalogReader;
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
import io.portcullis.persistence.audit.LedgerCheckpointer;
import io.portcullis.persistence.audit.LedgerKey;
import io.portcullis.persistence.audit.ParameterSeal;
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
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicLong;
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

  private final ActorSystem<Void> system;
  private final EventLoopGroup acceptors;
  private final EventLoopGroup workers;
  private final ClientListener listener;
  private final Optional<ServerBinding> admin;

  private GatewayNode(
      ActorSystem<Void> system,
      EventLoopGroup acceptors,
      EventLoopGroup workers,
      ClientListener listener,
      Optional<ServerBinding> admin) {
    this.system = system;
    this.acceptors = acceptors;
    this.workers = workers;
    this.listener = listener;
    this.admin = admin;
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
    ActorSystem<Void> system =
        ActorSystem.create(Behaviors.empty(), "portcullis", journal.applyTo(config));
    try {
      Duration reload = settings.policy().reloadInterval();
      system
          .scheduler()
          .scheduleWithFixedDelay(
              reload, reload, policy::reloadIfChanged, system.executionContext());
      joinCluster(system);
      AuditIndexing.start(
          system, journal, config.getDuration("portcullis.journal.index-poll-interval"));
      SessionControl.init(system);
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
              sharding,
              policy,
              new SqlAnalyzer(),
              approvals,
              catalogs,
              lineages,
              maskingKey(settings.policy().maskingKeyFile()),
              audit,
              parameterSeal(audit.sealingKeyFile()),
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
      log.info(
          "Portcullis listening on {}:{} for targets {}",
          settings.listener().host(),
          listener.port(),
          settings.targets().keySet());
      admin.ifPresent(binding -> log.info("admin API on {}", binding.localAddress()));
      return new GatewayNode(system, acceptors, workers, listener, admin);
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

  private static ParameterSeal parameterSeal(Optional<Path> file) {
    if (file.isPresent()) {
      try {
        return ParameterSeal.fromKeyFile(file.get());
      } catch (IOException | IllegalArgumentException e) {
        throw new ConfigException.BadValue(
            "portcullis.journal.sealing-key-file",
            e instanceof IOException ? "cannot read " + file.get() + ": " + e : e.getMessage());
      }
    }
    log.warn(
        "no portcullis.journal.sealing-key-file: bound parameter values are journaled masked only,"
            + " so sessions cannot be replayed with their original values");
    return ParameterSeal.none();
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

  private static void joinCluster(ActorSystem<Void> system) throws InterruptedException {
    Cluster cluster = Cluster.get(system);
    if (system.settings().config().getStringList("pekko.cluster.seed-nodes").isEmpty()) {
      cluster.manager().tell(Join.create(cluster.selfMember().address()));
    }
    Instant deadline = Instant.now().plus(CLUSTER_JOIN_TIMEOUT);
    while (cluster.selfMember().status() != MemberStatus.up()) {
      if (Instant.now().isAfter(deadline)) {
        throw new IllegalStateException(
            "this node did not join the cluster within "
                + CLUSTER_JOIN_TIMEOUT.toSeconds()
                + "s; check pekko.cluster.seed-nodes");
      }
      Thread.sleep(20);
    }
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
            .sharding()
            .entityRefFor(SessionControl.ENTITY_KEY, Integer.toString(request.processId()))
            .tell(new SessionControl.Cancel(request.secretKey()));
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

  public ActorSystem<Void> system() {
    return system;
  }

  @Override
  public void close() {
    listener.close();
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().join();
    workers.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    acceptors.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
  }
}
