package io.portcullis.node.health;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.apache.pekko.actor.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;

/** The readiness check of {@code /ready}: configured in cluster.conf, made by Pekko Management. */
public final class AcceptingConnections implements Supplier<CompletionStage<Boolean>> {

  private final Readiness readiness;

  public AcceptingConnections(ActorSystem system) {
    this.readiness = Readiness.get(Adapter.toTyped(system));
  }

  @Override
  public CompletionStage<Boolean> get() {
    return CompletableFuture.completedFuture(readiness.accepting());
  }
}
