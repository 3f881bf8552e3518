package io.portcullis.node.replay;

import io.portcullis.node.config.TargetSettings;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/**
 * The database a replay runs against, from a URL such as {@code
 * postgresql://replayer@sandbox.bank.example:5432/core_copy}. The password, if any, comes from
 * {@code PGPASSWORD}, never from the URL shown in reports and in the journal.
 */
public record Sandbox(String host, int port, String database, String user) {

  /** How reports and the journal name it: {@code host:port/database}. */
  public String location() {
    return host + ":" + port + "/" + database;
  }

  /**
   * Reads a {@code postgresql://} (or {@code jdbc:postgresql://}) URL.
   *
   * @throws IllegalArgumentException with a message for the person who typed it
   */
  public static Sandbox parse(String url) {
    String text = url.startsWith("jdbc:") ? url.substring(5) : url;
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("'" + url + "' is not a URL: " + e.getReason());
    }
    if (!"postgresql".equals(uri.getScheme()) && !"postgres".equals(uri.getScheme())) {
      throw new IllegalArgumentException(
          "'" + url + "' is not a postgresql://user@host:port/database URL");
    }
    String database = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
    if (uri.getHost() == null || database.isEmpty()) {
      throw new IllegalArgumentException(
          "'" + url + "' names no host or no database: use postgresql://user@host:port/database");
    }
    if (uri.getPort() > 65535) {
      throw new IllegalArgumentException(
          "'" + url + "' names port " + uri.getPort() + ", which is not a TCP port");
    }
    String userInfo = uri.getRawUserInfo();
    if (userInfo != null && userInfo.contains(":")) {
      throw new IllegalArgumentException(
          "put the sandbox password in PGPASSWORD, not in the URL: the URL is printed and"
              + " journaled");
    }
    String user =
        userInfo == null ? "postgres" : URLDecoder.decode(userInfo, StandardCharsets.UTF_8);
    return new Sandbox(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 5432, database, user);
  }

  /**
   * Why a replay may run here only with {@code --force}: it is the database of one of the gateway's
   * targets.
   */
  public Optional<String> protectedBy(Collection<TargetSettings> targets) {
    for (TargetSettings target : targets) {
      if (isDatabaseOf(target)) {
        return Optional.of(
            location()
                + " is the database of the gateway's target '"
                + target.name()
                + "': a replay runs there only with --force");
      }
    }
    return Optional.empty();
  }

  /**
   * Whether this is the database of a gateway target: the same port and database, on a host of the
   * same name or address.
   */
  private boolean isDatabaseOf(TargetSettings target) {
    if (port != target.port() || !database.equals(target.database())) {
      return false;
    }
    if (host.equalsIgnoreCase(target.host())) {
      return true;
    }
    List<InetAddress> ours = addresses(host);
    return addresses(target.host()).stream().anyMatch(ours::contains);
  }

  /** The sandbox as a target the gateway's upstream connector can log in to. */
  public TargetSettings asTarget(Optional<String> password, Duration connectTimeout) {
    return new TargetSettings(
        "sandbox",
        host,
        port,
        database,
        user,
        password
            .<TargetSettings.PasswordSource>map(TargetSettings.PasswordSource.Literal::new)
            .orElse(new TargetSettings.PasswordSource.None()),
        List.of(),
        Optional.empty(),
        new TargetSettings.UpstreamTls(TargetSettings.TlsMode.DISABLE, Optional.empty()),
        connectTimeout);
  }

  private static List<InetAddress> addresses(String host) {
    try {
      return Arrays.asList(InetAddress.getAllByName(host));
    } catch (UnknownHostException e) {
      return List.of();
    }
  }
}
