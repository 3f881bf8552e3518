package io.portcullis.node.server;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.portcullis.node.config.GatewaySettings;
import io.portcullis.node.metrics.GatewayMetrics;
import io.portcullis.node.session.StartupNegotiation;
import io.portcullis.protocol.FrontendDecoder;
import io.portcullis.protocol.MessageEncoder;
import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import javax.net.ssl.SSLException;
import org.apache.pekko.Done;

/** The TCP port clients connect to, speaking the PostgreSQL protocol. */
public final class ClientListener implements AutoCloseable {

  private final Channel serverChannel;

  private ClientListener(Channel serverChannel) {
    this.serverChannel = serverChannel;
  }

  public static ClientListener bind(
      GatewaySettings settings,
      EventLoopGroup acceptors,
      EventLoopGroup workers,
      NettyTransport transport,
      StartupHandler.SessionFactory sessions,
      GatewayMetrics metrics)
      throws InterruptedException, SSLException {
    Optional<SslContext> tls = serverTls(settings.listener());
    StartupNegotiation negotiation = new StartupNegotiation(settings.startup(), settings.targets());
    GatewaySettings.Limits limits = settings.limits();
    ClientTraffic.Bytes bytes = new ClientTraffic.Bytes(metrics);
    ClientTraffic.Errors errors = new ClientTraffic.Errors(metrics);
    Channel channel =
        new ServerBootstrap()
            .group(acceptors, workers)
            .channel(transport.serverChannel())
            .childOption(ChannelOption.AUTO_READ, false)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel client) {
                    client
                        .pipeline()
                        .addLast("bytes", bytes)
                        .addLast(
                            "decoder",
                            new FrontendDecoder(
                                limits.maxStartupPacketBytes(),
                                limits.maxAuthenticationMessageBytes()))
                        .addLast("errors", ProtocolErrorHandler.INSTANCE)
                        .addLast("encoder", MessageEncoder.INSTANCE)
                        .addLast("error-count", errors)
                        .addLast("startup", new StartupHandler(tls, negotiation, sessions));
                  }
                })
            .bind(settings.listener().host(), settings.listener().port())
            .sync()
            .channel();
    return new ClientListener(channel);
  }

  private static Optional<SslContext> serverTls(GatewaySettings.ListenerSettings listener)
      throws SSLException {
    if (!listener.tlsEnabled()) {
      return Optional.empty();
    }
    SslContextBuilder builder =
        SslContextBuilder.forServer(
            listener.certificateFile().orElseThrow().toFile(),
            listener.privateKeyFile().orElseThrow().toFile());
    // Optional: clients without a certificate log in with a token; a certificate that does not
    // chain to the client CA fails the handshake.
    listener
        .clientCaFile()
        .ifPresent(ca -> builder.trustManager(ca.toFile()).clientAuth(ClientAuth.OPTIONAL));
    return Optional.of(builder.build());
  }

  public int port() {
    return ((InetSocketAddress) serverChannel.localAddress()).getPort();
  }

  /** Stops accepting new connections; open sessions go on. */
  @Override
  public void close() {
    serverChannel.close().syncUninterruptibly();
  }

  /** {@link #close()} without waiting: completes once the socket no longer accepts. */
  public CompletionStage<Done> closeAsync() {
    CompletableFuture<Done> closed = new CompletableFuture<>();
    serverChannel.close().addListener(future -> closed.complete(Done.getInstance()));
    return closed;
  }
}
