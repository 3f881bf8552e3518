package io.portcullis.node.admin;

import io.netty.handler.ssl.JdkSslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.portcullis.node.config.GatewaySettings.AdminSettings;
import java.net.InetSocketAddress;
import java.time.Duration;
import javax.net.ssl.SSLException;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.ServerBuilder;

/** Serves the admin API on its own address, over TLS when a certificate is configured. */
public final class AdminServer {

  private AdminServer() {}

  public static ServerBinding start(ActorSystem<?> system, AdminSettings settings, AdminApi api)
      throws SSLException {
    ServerBuilder server = Http.get(system).newServerAt(settings.host(), settings.port());
    if (settings.certificateFile().isPresent()) {
      JdkSslContext tls =
          (JdkSslContext)
              SslContextBuilder.forServer(
                      settings.certificateFile().get().toFile(),
                      settings.privateKeyFile().orElseThrow().toFile())
                  .sslProvider(SslProvider.JDK)
                  .build();
      server = server.enableHttps(ConnectionContext.httpsServer(tls.context()));
    }
    return server
        .bind(api.routes())
        .toCompletableFuture()
        .join()
        .addToCoordinatedShutdown(Duration.ofSeconds(5), system);
  }

  public static int port(ServerBinding binding) {
    return ((InetSocketAddress) binding.localAddress()).getPort();
  }
}
