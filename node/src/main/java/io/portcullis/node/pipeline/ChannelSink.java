package io.portcullis.node.pipeline;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.portcullis.protocol.WireMessage;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.SinkShape;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AsyncCallback;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;

/**
 * Writes protocol messages to a Netty channel. Messages of one burst are encoded into one buffer
 * that is written and flushed once, by a task on the channel's event loop that runs after the
 * stream has handled every element already available. It pulls the next element only while the
 * channel is writable, so a client that stops reading stops the stream (and, through the stream,
 * the upstream socket).
 *
 * <p>The stage must run on the channel's event loop ({@link EventLoopDispatchers}): the flush task
 * and the stage share the burst buffer.
 */
public final class ChannelSink<T extends WireMessage> extends GraphStage<SinkShape<T>> {

  /** A burst larger than this is handed to the channel without waiting for the flush. */
  private static final int MAX_BURST_BYTES = 64 * 1024;

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
      private ByteBuf burst;
      private boolean flushScheduled;
      private boolean awaitingWritable;
      private final Runnable flush = this::flush;

      {
        setHandler(
            in,
            new AbstractInHandler() {
              @Override
              public void onPush() {
                if (burst == null) {
                  burst = channel.alloc().ioBuffer();
                }
                grab(in).writeTo(burst);
                if (burst.readableBytes() >= MAX_BURST_BYTES) {
                  writeBurst();
                }
                if (!flushScheduled) {
                  flushScheduled = true;
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
                flush();
                LocalClose.close(channel);
                completeStage();
              }

              @Override
              public void onUpstreamFailure(Throwable cause) {
                flush();
                LocalClose.close(channel);
                failStage(cause);
              }
            });
      }

      @Override
      public void preStart() {
        if (!channel.eventLoop().inEventLoop()) {
          throw new IllegalStateException("ChannelSink must run on its channel's event loop");
        }
        AsyncCallback<Boolean> onWritable = createAsyncCallback(ignored -> writable());
        AsyncCallback<Boolean> onClosed = createAsyncCallback(ignored -> completeStage());
        channel.pipeline().addLast("sink", new Bridge(onWritable, onClosed));
        if (!channel.isActive()) {
          completeStage();
          return;
        }
        pull(in);
      }

      @Override
      public void postStop() {
        if (burst != null) {
          burst.release();
          burst = null;
        }
      }

      private void writeBurst() {
        if (burst != null) {
          channel.write(burst, channel.voidPromise());
          burst = null;
        }
      }

      private void flush() {
        flushScheduled = false;
        writeBurst();
        channel.flush();
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
