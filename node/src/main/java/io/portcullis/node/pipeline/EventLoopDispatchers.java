package io.portcullis.node.pipeline;

import com.typesafe.config.ConfigFactory;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.util.concurrent.EventExecutor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.dispatch.Dispatcher;
import org.apache.pekko.dispatch.Dispatchers;
import org.apache.pekko.dispatch.ExecutorServiceFactory;
import org.apache.pekko.dispatch.MessageDispatcher;
import org.apache.pekko.dispatch.MessageDispatcherConfigurator;
import org.apache.pekko.stream.ActorAttributes;
import org.apache.pekko.stream.Attributes;
import scala.concurrent.duration.Duration;
import scala.concurrent.duration.FiniteDuration;

/**
 * One Pekko dispatcher per Netty event loop. A session's client and upstream sockets share an event
 * loop, and its streams run on that loop's dispatcher, so a statement travels from socket to socket
 * on one thread: no hand-off between Netty and stream threads on the hot path, which is what keeps
 * the gateway's overhead close to a C proxy's.
 */
public final class EventLoopDispatchers {

  private static final int THROUGHPUT = 64;
  private final Map<EventLoop, Attributes> attributes;

  private EventLoopDispatchers(Map<EventLoop, Attributes> attributes) {
    this.attributes = attributes;
  }

  /** Registers a dispatcher for every event loop of the group. */
  public static EventLoopDispatchers register(ActorSystem<?> system, EventLoopGroup group) {
    Dispatchers dispatchers = Adapter.toClassic(system).dispatchers();
    Map<EventLoop, Attributes> attributes = new HashMap<>();
    int index = 0;
    for (EventExecutor executor : group) {
      EventLoop loop = (EventLoop) executor;
      String id = "portcullis.event-loop-" + index++;
      dispatchers.registerConfigurator(id, new Configurator(id, loop, dispatchers));
      attributes.put(loop, ActorAttributes.dispatcher(id));
    }
    return new EventLoopDispatchers(Map.copyOf(attributes));
  }

  /** Stream attributes that run a graph on the dispatcher of this event loop. */
  public Attributes on(EventLoop loop) {
    Attributes found = attributes.get(loop);
    if (found == null) {
      throw new IllegalArgumentException("event loop not registered: " + loop);
    }
    return found;
  }

  List<EventLoop> loops() {
    return List.copyOf(attributes.keySet());
  }

  private static final class Configurator extends MessageDispatcherConfigurator {
    private final Dispatcher dispatcher;

    Configurator(String id, EventLoop loop, Dispatchers dispatchers) {
      super(
          ConfigFactory.parseString("id = \"" + id + "\"")
              .withFallback(dispatchers.defaultDispatcherConfig()),
          dispatchers.prerequisites());
      ExecutorService executor = new LoopExecutor(loop);
      ExecutorServiceFactory factory = () -> executor;
      this.dispatcher =
          new Dispatcher(
              this,
              id,
              THROUGHPUT,
              Duration.Zero(),
              (name, threadFactory) -> factory,
              FiniteDuration.apply(1, TimeUnit.SECONDS));
    }

    @Override
    public MessageDispatcher dispatcher() {
      return dispatcher;
    }
  }

  /** Runs tasks on the loop; the loop's life belongs to Netty, so shutting it down does nothing. */
  private static final class LoopExecutor extends AbstractExecutorService {
    private final EventLoop loop;

    LoopExecutor(EventLoop loop) {
      this.loop = loop;
    }

    @Override
    public void execute(Runnable task) {
      loop.execute(task);
    }

    @Override
    public void shutdown() {}

    @Override
    public List<Runnable> shutdownNow() {
      return List.of();
    }

    @Override
    public boolean isShutdown() {
      return loop.isShuttingDown();
    }

    @Override
    public boolean isTerminated() {
      return loop.isTerminated();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
      return loop.awaitTermination(timeout, unit);
    }
  }
}
