package io.portcullis.node.policy;

import io.portcullis.persistence.CborSerializable;
import io.portcullis.policy.rules.Policy;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ddata.Key;
import org.apache.pekko.cluster.ddata.LWWRegister;
import org.apache.pekko.cluster.ddata.LWWRegisterKey;
import org.apache.pekko.cluster.ddata.SelfUniqueAddress;
import org.apache.pekko.cluster.ddata.typed.javadsl.DistributedData;
import org.apache.pekko.cluster.ddata.typed.javadsl.Replicator;

/**
 * Makes a policy change on one node the policy of every node: the text of the latest policy file
 * change on any node is a last-writer-wins register of Pekko Distributed Data, which every node
 * subscribes to and adopts. A node that starts adopts the register once it has it, so a restarted
 * node with an older file follows the cluster rather than turning it back.
 */
public final class ClusterPolicy {

  private static final Key<LWWRegister<SharedPolicy>> KEY = LWWRegisterKey.create("policy");
  private static final Duration WRITE_TIMEOUT = Duration.ofSeconds(3);

  /** The register's value: the policy text and the node whose file it came from. */
  public record SharedPolicy(String text, String node) implements CborSerializable {}

  private sealed interface Command {}

  private record Publish(Policy policy) implements Command {}

  private record Changed(Replicator.SubscribeResponse<LWWRegister<SharedPolicy>> response)
      implements Command {}

  private record Written(Replicator.UpdateResponse<LWWRegister<SharedPolicy>> response)
      implements Command {}

  private ClusterPolicy() {}

  public static void start(ActorSystem<?> system, PolicySource source, String node) {
    ActorRef<Command> shared = system.systemActorOf(create(source, node), "policy", Props.empty());
    source.whenFileChanges(policy -> shared.tell(new Publish(policy)));
  }

  private static Behavior<Command> create(PolicySource source, String node) {
    return Behaviors.setup(
        context ->
            DistributedData.withReplicatorMessageAdapter(
                (org.apache.pekko.cluster.ddata.typed.javadsl.ReplicatorMessageAdapter<
                            Command, LWWRegister<SharedPolicy>>
                        replicator) -> {
                  SelfUniqueAddress self =
                      DistributedData.get(context.getSystem()).selfUniqueAddress();
                  replicator.subscribe(KEY, Changed::new);
                  return Behaviors.receive(Command.class)
                      .onMessage(
                          Publish.class,
                          publish -> {
                            SharedPolicy value = new SharedPolicy(publish.policy().source(), node);
                            replicator.askUpdate(
                                replyTo ->
                                    new Replicator.Update<>(
                                        KEY,
                                        LWWRegister.create(self, value),
                                        new Replicator.WriteAll(WRITE_TIMEOUT),
                                        replyTo,
                                        register -> register.withValue(self, value)),
                                Written::new);
                            return Behaviors.same();
                          })
                      .onMessage(
                          Changed.class,
                          changed -> {
                            if (changed.response()
                                instanceof Replicator.Changed<LWWRegister<SharedPolicy>> value) {
                              SharedPolicy policy = value.get(KEY).getValue();
                              source.adopt(
                                  policy.text(), "the cluster (a change on " + policy.node() + ")");
                            }
                            return Behaviors.same();
                          })
                      .onMessage(
                          Written.class,
                          written -> {
                            if (!(written.response() instanceof Replicator.UpdateSuccess)) {
                              context
                                  .getLog()
                                  .warn(
                                      "not every node confirmed the new policy in time ({}); it"
                                          + " reaches them by gossip",
                                      written.response());
                            }
                            return Behaviors.same();
                          })
                      .build();
                }));
  }
}
