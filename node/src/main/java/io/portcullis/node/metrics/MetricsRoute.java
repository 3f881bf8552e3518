package io.portcullis.node.metrics;

import java.nio.charset.StandardCharsets;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.ContentTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.server.AllDirectives;
import org.apache.pekko.http.javadsl.server.Route;
import org.apache.pekko.management.javadsl.ManagementRouteProvider;
import org.apache.pekko.management.javadsl.ManagementRouteProviderSettings;

/**
 * {@code GET /metrics} on the management port: the node's {@link GatewayMetrics} for Prometheus.
 * Pekko Management makes it from {@code pekko.management.http.routes} (metrics.conf).
 */
public final class MetricsRoute extends AllDirectives implements ManagementRouteProvider {

  private static final ContentType PROMETHEUS_TEXT =
      ContentTypes.parse("text/plain; version=0.0.4; charset=utf-8");

  private final GatewayMetrics metrics;

  public MetricsRoute(ExtendedActorSystem system) {
    this.metrics = GatewayMetrics.get(Adapter.toTyped(system));
  }

  @Override
  public Route routes(ManagementRouteProviderSettings settings) {
    return path(
        "metrics",
        () ->
            get(
                () ->
                    complete(
                        HttpEntities.create(
                            PROMETHEUS_TEXT, metrics.scrape().getBytes(StandardCharsets.UTF_8)))));
  }
}
