package io.portcullis.node.approval;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueType;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * Where new approval requests are announced ({@code portcullis.approvals.webhooks}), and how hard
 * the gateway tries.
 *
 * @param timeout for connecting and for the response to each attempt
 * @param maxAttempts attempts per endpoint and approval, the first included
 * @param firstRetryDelay the wait before the second attempt; each later wait doubles
 */
public record WebhookSettings(
    List<Endpoint> endpoints, Duration timeout, int maxAttempts, Duration firstRetryDelay) {

  private static final String PATH = "portcullis.approvals";

  public enum Format {
    GENERIC,
    SLACK
  }

  /** One webhook. The URL and header values may be secrets (Slack's URL is), so never log them. */
  public record Endpoint(URI url, Format format, Map<String, String> headers) {
    public Endpoint {
      headers = Map.copyOf(headers);
    }

    /** The host and port, the part of the URL that is safe to log. */
    public String displayName() {
      return url.getPort() == -1 ? url.getHost() : url.getHost() + ":" + url.getPort();
    }

    @Override
    public String toString() {
      return "Endpoint[" + displayName() + ", " + format + ", headers=" + headers.keySet() + "]";
    }
  }

  public WebhookSettings {
    endpoints = List.copyOf(endpoints);
  }

  /** Reads the {@code portcullis.approvals} section; header secrets come from the environment. */
  public static WebhookSettings from(Config approvals) {
    return from(approvals, System::getenv);
  }

  static WebhookSettings from(Config approvals, UnaryOperator<String> environment) {
    Duration timeout = approvals.getDuration("webhook-timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new ConfigException.BadValue(PATH + ".webhook-timeout", "must be positive");
    }
    int maxAttempts = approvals.getInt("webhook-max-attempts");
    if (maxAttempts < 1) {
      throw new ConfigException.BadValue(
          PATH + ".webhook-max-attempts", "must be at least 1 (1 means no retries)");
    }
    Duration firstRetryDelay = approvals.getDuration("webhook-first-retry-delay");
    if (firstRetryDelay.isNegative()) {
      throw new ConfigException.BadValue(
          PATH + ".webhook-first-retry-delay", "must not be negative");
    }
    List<Endpoint> endpoints = new ArrayList<>();
    List<? extends Config> entries = approvals.getConfigList("webhooks");
    for (int i = 0; i < entries.size(); i++) {
      endpoints.add(endpoint(entries.get(i), PATH + ".webhooks[" + i + "]", environment));
    }
    return new WebhookSettings(endpoints, timeout, maxAttempts, firstRetryDelay);
  }

  private static Endpoint endpoint(Config entry, String path, UnaryOperator<String> environment) {
    if (!entry.hasPath("url")) {
      throw new ConfigException.BadValue(path + ".url", "missing: the http(s) URL to POST to");
    }
    URI url = url(entry.getString("url"), path + ".url");
    Format format = Format.GENERIC;
    if (entry.hasPath("format")) {
      String name = entry.getString("format");
      try {
        format = Format.valueOf(name.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new ConfigException.BadValue(
            path + ".format", "unknown format '" + name + "'; expected generic or slack");
      }
    }
    Map<String, String> headers = new LinkedHashMap<>();
    Set<String> names = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    for (Map.Entry<String, String> header : strings(entry, "headers", path).entrySet()) {
      addHeader(headers, names, header.getKey(), header.getValue(), path + ".headers");
    }
    for (Map.Entry<String, String> header : strings(entry, "headers-env", path).entrySet()) {
      String keyPath = path + ".headers-env." + header.getKey();
      String value = environment.apply(header.getValue());
      if (value == null || value.isEmpty()) {
        throw new ConfigException.BadValue(
            keyPath, "environment variable " + header.getValue() + " is not set or empty");
      }
      addHeader(headers, names, header.getKey(), value, path + ".headers-env");
    }
    return new Endpoint(url, format, headers);
  }

  /** The URL is not repeated in messages: it may be a secret. */
  private static URI url(String text, String path) {
    URI url;
    try {
      url = new URI(text);
    } catch (URISyntaxException e) {
      throw new ConfigException.BadValue(path, "not a URL: " + e.getReason());
    }
    String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("http") && !scheme.equals("https")) {
      throw new ConfigException.BadValue(
          path, "must be an http:// or https:// URL, not scheme '" + scheme + "'");
    }
    if (url.getHost() == null || url.getHost().isEmpty()) {
      throw new ConfigException.BadValue(path, "the URL has no host");
    }
    return url;
  }

  private static Map<String, String> strings(Config entry, String key, String path) {
    Map<String, String> values = new LinkedHashMap<>();
    if (!entry.hasPath(key)) {
      return values;
    }
    ConfigObject object = entry.getObject(key);
    for (Map.Entry<String, ConfigValue> value : object.entrySet()) {
      ConfigValueType type = value.getValue().valueType();
      if (type == ConfigValueType.OBJECT
          || type == ConfigValueType.LIST
          || type == ConfigValueType.NULL) {
        throw new ConfigException.BadValue(
            path + "." + key + "." + value.getKey(), "must be a string");
      }
      values.put(value.getKey(), String.valueOf(value.getValue().unwrapped()));
    }
    return values;
  }

  private static void addHeader(
      Map<String, String> headers, Set<String> names, String name, String value, String path) {
    String keyPath = path + "." + name;
    if (name.equalsIgnoreCase("Content-Type")) {
      throw new ConfigException.BadValue(
          keyPath, "the gateway sends Content-Type: application/json itself");
    }
    if (!names.add(name)) {
      throw new ConfigException.BadValue(
          keyPath, "header " + name + " is given twice (in headers and headers-env)");
    }
    try {
      // The HTTP client refuses some names (Host, Content-Length, ...) and malformed values.
      HttpRequest.newBuilder().header(name, value);
    } catch (IllegalArgumentException e) {
      throw new ConfigException.BadValue(
          keyPath, "not a header the gateway can send (" + e.getMessage() + ")");
    }
    headers.put(name, value);
  }
}
