package io.portcullis.node.replay;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.portcullis.node.config.TargetSettings;
import io.portcullis.node.server.NettyTransport;
import io.portcullis.node.upstream.UpstreamConnection;
import io.portcullis.node.upstream.UpstreamConnector;
import io.portcullis.protocol.BackendMessage;
import io.portcullis.protocol.FrontendMessage;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A protocol-level connection to the sandbox, logged in by the gateway's own upstream connector,
 * for a replay that sends exactly the messages a client sent and reads back every message, one at a
 * time, as the gateway's masking stage sees them.
 */
public final class SandboxConnection implements AutoCloseable {

  /**
   * What one read of the socket brought, or the end of the connection, as the event loop hands them
   * over: a hand-over per read rather than per message, so that the replaying thread wakes once per
   * answer.
   */
  private sealed interface Received permits Messages, Closed {}

  private record Messages(List<BackendMessage> messages) implements Received {}

  private record Closed(Throwable cause) implements Received {}

  private final EventLoopGroup loop;
  private final UpstreamConnection connection;
  private final BlockingQueue<Received> received = new LinkedBlockingQueue<>();
  private final Deque<BackendMessage> ready = new ArrayDeque<>();
  private final Duration timeout;

  private SandboxConnection(EventLoopGroup loop, UpstreamConnection connection, Duration timeout) {
    this.loop = loop;
    this.connection = connection;
    this.timeout = timeout;
    connection
        .channel()
        .pipeline()
        .addLast(
            "replay",
            new ChannelInboundHandlerAdapter() {
              private final List<BackendMessage> read = new ArrayList<>();

              @Override
              public void channelRead(ChannelHandlerContext ctx, Object msg) {
                read.add((BackendMessage) msg);
              }

              @Override
              public void channelReadComplete(ChannelHandlerContext ctx) {
                handOver();
              }

              @Override
              public void channelInactive(ChannelHandlerContext ctx) {
                handOver();
                received.add(new Closed(null));
              }

              private void handOver() {
                if (!read.isEmpty()) {
                  received.add(new Messages(List.copyOf(read)));
                  read.clear();
                }
              }

              @Override
              public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
                received.add(new Closed(cause));
                ctx.close();
              }
            });
    connection.channel().config().setAutoRead(true);
    connection.channel().read();
  }

  /**
   * Connects and logs in.
   *
   * @param timeout how long the sandbox may take to answer any one message
   * @throws SandboxException when it cannot be reached or refuses the login
   */
  public static SandboxConnection open(TargetSettings sandbox, Duration timeout)
      throws SandboxException {
    NettyTransport transport = NettyTransport.best();
    EventLoopGroup loop = new MultiThreadIoEventLoopGroup(1, transport.ioHandlerFactory());
    try {
      UpstreamConnection connection =
          new UpstreamConnector(Integer.MAX_VALUE, transport.channel())
              .connect(
                  sandbox,
                  sandbox.loginFor(Set.of()),
                  Optional.empty(),
                  Map.of("application_name", "portcullis replay"),
                  loop.next())
              .toCompletableFuture()
              .get(sandbox.connectTimeout().toMillis() + timeout.toMillis(), TimeUnit.MILLISECONDS);
      return new SandboxConnection(loop, connection, timeout);
    } catch (ExecutionException e) {
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      Throwable cause = e.getCause();
      throw new SandboxException(
          "cannot connect to the sandbox at "
              + sandbox.host()
              + ":"
              + sandbox.port()
              + "/"
              + sandbox.database()
              + ": "
              + (cause.getMessage() == null ? cause.toString() : cause.getMessage()));
    } catch (TimeoutException e) {
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      throw new SandboxException("the sandbox at " + sandbox.host() + " did not answer in time");
    } catch (InterruptedException e) {
      loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
      Thread.currentThread().interrupt();
      throw new SandboxException("interrupted while connecting to the sandbox");
    }
  }

  /** Sends messages in one write, handed to the event loop at once. */
  public void send(FrontendMessage... messages) {
    Channel channel = connection.channel();
    channel
        .eventLoop()
        .execute(
            () -> {
              for (FrontendMessage message : messages) {
                channel.write(message);
              }
              channel.flush();
            });
  }

  /**
   * Sends a message and waits until it is written to the socket, so that a large COPY's data is
   * held in memory one chunk at a time, as fast as the sandbox takes it.
   */
  public void sendAndWait(FrontendMessage message) {
    connection.channel().writeAndFlush(message).syncUninterruptibly();
  }

  /** The next message from the sandbox. */
  public BackendMessage next() throws SandboxException {
    if (!ready.isEmpty()) {
      return ready.poll();
    }
    Received next;
    try {
      next = received.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SandboxException("interrupted while waiting for the sandbox");
    }
    if (next == null) {
      throw new SandboxException("the sandbox did not answer within " + timeout.toSeconds() + " s");
    }
    if (next instanceof Closed closed) {
      received.add(closed);
      throw new SandboxException(
          "the sandbox closed the connection"
              + (closed.cause() == null ? "" : ": " + closed.cause().getMessage()));
    }
    ready.addAll(((Messages) next).messages());
    return ready.poll();
  }

  @Override
  public void close() {
    if (connection.channel().isActive()) {
      connection.channel().writeAndFlush(FrontendMessage.Terminate.INSTANCE);
    }
    connection.channel().close().syncUninterruptibly();
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** The sandbox cannot be used: unreachable, refusing, or gone. */
  public static final class SandboxException extends Exception {
    public SandboxException(String message) {
      super(message);
    }
  }
}
