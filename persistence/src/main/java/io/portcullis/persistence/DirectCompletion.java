package io.portcullis.persistence;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The answer of an ask, completed on the thread that answers it. Pekko's Java ask hands back a
 * Scala-converted future whose callbacks (whenComplete, thenApply…) all run asynchronously on the
 * common fork-join pool; on a machine of two cores that pool has one thread, and the JDK then
 * starts a new thread for every callback. On a statement's path that cost more than the statement.
 */
public final class DirectCompletion {

  private DirectCompletion() {}

  public static <T> CompletableFuture<T> of(CompletionStage<T> stage) {
    CompletableFuture<T> direct = new CompletableFuture<>();
    stage.whenCompleteAsync(
        (value, failure) -> {
          if (failure != null) {
            direct.completeExceptionally(failure);
          } else {
            direct.complete(value);
          }
        },
        Runnable::run);
    return direct;
  }
}
