package io.portcullis.node.pipeline;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.SourceShape;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * Emits the decoded messages of a Netty channel. The socket is read while downstream keeps up; when
 * a read arrives while messages of the previous one are still waiting, auto-read is switched off
 * until they are all taken, so a slow consumer stops the socket being read (and TCP flow control
 * stops the peer) with at most two reads' worth of messages held here. In the usual
 * request/response rhythm nothing waits, so the socket's read interest never changes (no system
 * call per message). Completes when the gateway closed the channel, fails with {@link
 * ConnectionLostException} when the peer did.
 */
public final class ChannelSource<T> extends GraphStage<SourceShape<T>> {

  private final Outlet<T> out = Outlet.create("ChannelSource.out");
  private final SourceShape<T> shape = SourceShape.of(out);
  private final Channel channel;
  private final Class<T> type;
  private final String replacedHandler;

  public ChannelSource(Channel channel, Class<T> type) {
    this(channel, type, "");
  }

  /**
   * @param replacedHandler the handler that read the channel before this source (the client's
   *     startup handler), removed when the source takes over: both happen on the channel's event
   *     loop, so no message falls between them
   */
  public ChannelSource(Channel channel, Class<T> type, String replacedHandler) {
    this.channel = channel;
    this.type = type;
    this.replacedHandler = replacedHandler;
  }

  @Override
  public SourceShape<T> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new GraphStageLogic(shape) {
      private final ArrayDeque<T> buffer = new ArrayDeque<>();
      private boolean closed;

      {
        setHandler(
            out,
            new AbstractOutHandler() {
              @Override
              public void onPull() {
                emitOrRead();
              }

              @Override
              public void onDownstreamFinish(Throwable cause) {
                LocalClose.close(channel);
                completeStage();
              }
            });
      }

      @Override
      public void preStart() {
        AsyncCallback<List<T>> onRead = createAsyncCallback(this::received);
        AsyncCallback<Throwable> onFailure = createAsyncCallback(this::failStage);
        AsyncCallback<Boolean> onClosed = createAsyncCallback(ignored -> closed());
        channel.pipeline().addLast("source", new Bridge(onRead, onFailure, onClosed));
        if (!replacedHandler.isEmpty() && channel.pipeline().get(replacedHandler) != null) {
          channel.pipeline().remove(replacedHandler);
        }
        if (!channel.isActive()) {
          closed();
          return;
        }
        channel.config().setAutoRead(true);
      }

      private void received(List<T> batch) {
        if (!buffer.isEmpty()) {
          channel.config().setAutoRead(false);
        }
        buffer.addAll(batch);
        if (isAvailable(out)) {
          emitOrRead();
        }
      }

      private void emitOrRead() {
        T next = buffer.poll();
        if (next != null) {
          push(out, next);
        } else if (closed) {
          finish();
        } else if (!channel.config().isAutoRead()) {
          channel.config().setAutoRead(true);
        }
      }

      private void closed() {
        closed = true;
        if (buffer.isEmpty()) {
          finish();
        }
      }

      private void finish() {
        if (LocalClose.wasLocal(channel)) {
          completeStage();
        } else {
          failStage(new ConnectionLostException("connection closed by " + channel.remoteAddress()));
        }
      }
    };
  }

  /** Collects what one socket read decoded and hands it to the stage in one callback. */
  private final class Bridge extends ChannelInboundHandlerAdapter {
    private final AsyncCallback<List<T>> onRead;
    private final AsyncCallback<Throwable> onFailure;
    private final AsyncCallback<Boolean> onClosed;
    private List<T> batch = new ArrayList<>();

    Bridge(
        AsyncCallback<List<T>> onRead,
        AsyncCallback<Throwable> onFailure,
        AsyncCallback<Boolean> onClosed) {
      this.onRead = onRead;
      this.onFailure = onFailure;
      this.onClosed = onClosed;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (type.isInstance(msg)) {
        batch.add(type.cast(msg));
      } else {
        ReferenceCountUtil.release(msg);
        onFailure.invoke(new IllegalStateException("unexpected " + msg.getClass().getName()));
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (!batch.isEmpty()) {
        onRead.invoke(batch);
        batch = new ArrayList<>();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      onClosed.invoke(true);
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      onFailure.invoke(cause);
      ctx.close();
    }
  }
}
