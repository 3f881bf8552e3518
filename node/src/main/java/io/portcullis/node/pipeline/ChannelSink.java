package io.portcullis.node.pipeline;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.SinkShape;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * Writes elements to a Netty channel. It pulls the next element only while the channel is writable,
 * so a client that stops reading stops the stream (and, through the stream, the upstream socket).
 * Writes are flushed once per burst: the flush is a task on the channel's event loop, which runs
 * after the stream has written every element already available.
 */
public final class ChannelSink<T> extends GraphStage<SinkShape<T>> {

  private final Inlet<T> in = Inlet.create("ChannelSink.in");
  private final SinkShape<T> shape = SinkShape.of(in);
  private final Channel channel;

  public ChannelSink(Channel channel) {
    this.channel = channel;
  }

  @Override
  public SinkShape<T> shape() {
    return shape;
  }

  @Override
  public GraphStageLogic createLogic(Attributes attributes) {
    return new GraphStageLogic(shape) {
      private final AtomicBoolean flushScheduled = new AtomicBoolean();
      private final Runnable flush =
          () -> {
            flushScheduled.set(false);
            channel.flush();
          };
      private boolean awaitingWritable;

      {
        setHandler(
            in,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                channel.write(grab(in), channel.voidPromise());
                if (flushScheduled.compareAndSet(false, true)) {
                  channel.eventLoop().execute(flush);
                }
                if (channel.isWritable()) {
                  pull(in);
                } else {
                  awaitingWritable = true;
                }
              }

              @Override
              public void onUpstreamFinish() {
                LocalClose.close(channel);
                completeStage();
              }

              @Override
              public void onUpstreamFailure(Throwable cause) {
                LocalClose.close(channel);
                failStage(cause);
              }
            });
      }

      @Override
      public void preStart() {
        AsyncCallback<Boolean> onWritable = createAsyncCallback(ignored -> writable());
        AsyncCallback<Boolean> onClosed = createAsyncCallback(ignored -> completeStage());
        channel.pipeline().addLast("sink", new Bridge(onWritable, onClosed));
        if (!channel.isActive()) {
          completeStage();
          return;
        }
        pull(in);
      }

      private void writable() {
        if (awaitingWritable && channel.isWritable()) {
          awaitingWritable = false;
          pull(in);
        }
      }
    };
  }

  private static final class Bridge extends ChannelInboundHandlerAdapter {
    private final AsyncCallback<Boolean> onWritable;
    private final AsyncCallback<Boolean> onClosed;

    Bridge(AsyncCallback<Boolean> onWritable, AsyncCallback<Boolean> onClosed) {
      this.onWritable = onWritable;
      this.onClosed = onClosed;
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      onWritable.invoke(true);
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      onClosed.invoke(true);
      ctx.fireChannelInactive();
    }
  }
}
