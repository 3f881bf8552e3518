package io.portcullis.node.health;

import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Extension;
import org.apache.pekko.actor.typed.ExtensionId;

/**
 * Whether this node takes new client connections: from the moment its listener is bound until it
 * starts to drain. The management endpoint {@code /ready} reports it to the load balancer.
 */
public final class Readiness implements Extension {

  private static final ExtensionId<Readiness> ID =
      new ExtensionId<>() {
        @Override
        public Readiness createExtension(ActorSystem<?> system) {
          return new Readiness();
        }
      };

  private volatile boolean accepting;

  private Readiness() {}

  public static Readiness get(ActorSystem<?> system) {
    return system.registerExtension(ID);
  }

  public boolean accepting() {
    return accepting;
  }

  public void accepting(boolean accepting) {
    this.accepting = accepting;
  }
}
