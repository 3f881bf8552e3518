package io.portcullis.node.audit;

import io.portcullis.node.policy.PolicySource;
import io.portcullis.persistence.audit.PolicyVersion;
import io.portcullis.policy.rules.Policy;
import java.time.Duration;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.sharding.typed.javadsl.Entity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records in the journal every policy that comes into force on this node: its text once for the
 * cluster, and that this node enforces it. A write that fails is tried again until the journal
 * takes it; statements are journaled (or refused) on their own meanwhile, naming the version.
 */
public final class PolicyVersions {

  private static final Logger log = LoggerFactory.getLogger(PolicyVersions.class);
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration RETRY = Duration.ofSeconds(5);

  private final ActorSystem<?> system;
  private final ClusterSharding sharding;
  private final String node;

  private PolicyVersions(ActorSystem<?> system, ClusterSharding sharding, String node) {
    this.system = system;
    this.sharding = sharding;
    this.node = node;
  }

  public static void start(
      ActorSystem<?> system, ClusterSharding sharding, PolicySource policy, String node) {
    sharding.init(
        Entity.of(PolicyVersion.TYPE_KEY, context -> PolicyVersion.create(context.getEntityId())));
    policy.whenInForce(new PolicyVersions(system, sharding, node)::record);
  }

  private void record(Policy policy) {
    sharding
        .entityRefFor(PolicyVersion.TYPE_KEY, policy.version())
        .<Done>ask(
            replyTo -> new PolicyVersion.InForce(policy.source(), node, replyTo), WRITE_TIMEOUT)
        .whenComplete(
            (done, failure) -> {
              if (failure == null) {
                log.info("policy {} recorded in the journal", policy.shortVersion());
                return;
              }
              log.warn(
                  "policy {} could not be recorded in the journal ({}); trying again in {} s",
                  policy.shortVersion(),
                  failure.toString(),
                  RETRY.toSeconds());
              system
                  .scheduler()
                  .scheduleOnce(RETRY, () -> record(policy), system.executionContext());
            });
  }
}
