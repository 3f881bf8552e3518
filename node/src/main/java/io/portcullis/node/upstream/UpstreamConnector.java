package io.portcullis.node.upstream;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.portcullis.node.config.TargetSettings;
import io.portcullis.node.config.TargetSettings.TlsMode;
import io.portcullis.node.config.TargetSettings.UpstreamLogin;
import io.portcullis.protocol.BackendDecoder;
import io.portcullis.protocol.BackendMessage.BackendKeyData;
import io.portcullis.protocol.FrontendMessage;
import io.portcullis.protocol.MessageEncoder;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import javax.net.ssl.SSLException;

/**
 * Opens authenticated connections to upstream targets with the gateway's own credentials, on the
 * event loop of the client connection they serve, so that a session's two sockets share a thread.
 */
public final class UpstreamConnector {

  private static final int PROTOCOL_3_0 = 3 << 16;

  private final int maxMessageBytes;
  private final Class<? extends SocketChannel> channelType;
  private final Map<String, SslContext> sslContexts = new ConcurrentHashMap<>();

  /**
   * @param channelType the socket channel class matching the event loops' transport
   */
  public UpstreamConnector(int maxMessageBytes, Class<? extends SocketChannel> channelType) {
    this.maxMessageBytes = maxMessageBytes;
    this.channelType = channelType;
  }

  /**
   * Connects, negotiates TLS as the target requires, logs in, sets the role if asked, and waits for
   * ReadyForQuery.
   *
   * @param login the upstream role and password for this session
   * @param setRole a role to SET after login
   * @param parameters startup parameters besides user and database (already vetted)
   */
  public CompletionStage<UpstreamConnection> connect(
      TargetSettings target,
      UpstreamLogin login,
      Optional<String> setRole,
      Map<String, String> parameters,
      EventLoop loop) {
    CompletableFuture<UpstreamConnection> result = new CompletableFuture<>();
    Map<String, String> startupParameters = new LinkedHashMap<>();
    startupParameters.put("user", login.user());
    startupParameters.put("database", target.database());
    startupParameters.putAll(parameters);
    FrontendMessage.Startup startupMessage =
        new FrontendMessage.Startup(PROTOCOL_3_0, startupParameters);
    bootstrap(target, loop)
        .connect(target.host(), target.port())
        .addListener(
            (ChannelFutureListener)
                connected -> {
                  if (!connected.isSuccess()) {
                    result.completeExceptionally(connected.cause());
                    return;
                  }
                  Channel channel = connected.channel();
                  Runnable startup =
                      () -> {
                        channel
                            .pipeline()
                            .addLast("decoder", new BackendDecoder(maxMessageBytes))
                            .addLast(
                                "handshake", new UpstreamHandshake(target, login, setRole, result));
                        channel.writeAndFlush(startupMessage);
                      };
                  if (target.tls().mode() == TlsMode.DISABLE) {
                    startup.run();
                  } else {
                    startTls(channel, target, startup, result);
                  }
                });
    return result;
  }

  /**
   * Asks the upstream to cancel whatever the connection with this key is running. Like every
   * PostgreSQL client, it gets no answer: the cancelled query reports 57014 on its own connection.
   */
  public void cancel(TargetSettings target, BackendKeyData key, EventLoop loop) {
    bootstrap(target, loop)
        .connect(target.host(), target.port())
        .addListener(
            (ChannelFutureListener)
                connected -> {
                  if (connected.isSuccess()) {
                    connected
                        .channel()
                        .writeAndFlush(
                            new FrontendMessage.CancelRequest(key.processId(), key.secretKey()))
                        .addListener(ChannelFutureListener.CLOSE);
                  }
                });
  }

  private Bootstrap bootstrap(TargetSettings target, EventLoop loop) {
    return new Bootstrap()
        .group(loop)
        .channel(channelType)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) target.connectTimeout().toMillis())
        .handler(
            new ChannelInitializer<SocketChannel>() {
              @Override
              protected void initChannel(SocketChannel channel) {
                channel.pipeline().addLast("encoder", MessageEncoder.INSTANCE);
              }
            });
  }

  private void startTls(
      Channel channel,
      TargetSettings target,
      Runnable startup,
      CompletableFuture<UpstreamConnection> result) {
    channel
        .pipeline()
        .addFirst(
            "ssl-answer",
            new ByteToMessageDecoder() {
              @Override
              protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
                  throws SSLException {
                byte answer = in.readByte();
                ctx.pipeline().remove(this);
                if (answer != 'S') {
                  result.completeExceptionally(
                      new UpstreamAuthenticationException(
                          "target '"
                              + target.name()
                              + "' does not accept TLS, but its tls.mode is "
                              + target.tls().mode().name().toLowerCase().replace('_', '-')));
                  ctx.close();
                  return;
                }
                SslHandler tls =
                    sslContext(target).newHandler(ctx.alloc(), target.host(), target.port());
                ctx.pipeline().addFirst("tls", tls);
                tls.handshakeFuture()
                    .addListener(
                        handshake -> {
                          if (handshake.isSuccess()) {
                            startup.run();
                          } else {
                            result.completeExceptionally(handshake.cause());
                            ctx.close();
                          }
                        });
              }
            });
    channel.writeAndFlush(FrontendMessage.SslRequest.INSTANCE);
  }

  private SslContext sslContext(TargetSettings target) throws SSLException {
    SslContext cached = sslContexts.get(target.name());
    if (cached != null) {
      return cached;
    }
    SslContextBuilder builder = SslContextBuilder.forClient();
    if (target.tls().mode() == TlsMode.VERIFY_FULL) {
      builder
          .trustManager(target.tls().caFile().orElseThrow().toFile())
          .endpointIdentificationAlgorithm("HTTPS");
    } else {
      // tls.mode = require: encrypt, like libpq's sslmode=require, without verification.
      builder
          .trustManager(InsecureTrustManagerFactory.INSTANCE)
          .endpointIdentificationAlgorithm(null);
    }
    SslContext context = builder.build();
    sslContexts.put(target.name(), context);
    return context;
  }
}
