package io.portcullis.node.testing;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.portcullis.node.GatewayNode;
import io.portcullis.node.config.ConfigLoader;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;

/** Starts a real gateway node in the test JVM, on free ports, in front of {@link TestPostgres}. */
public final class TestGateway {

  private TestGateway() {}

  /** A gateway whose target {@code main} is the tests' database; extra HOCON overrides last. */
  public static GatewayNode start(String extraConfig) throws Exception {
    return GatewayNode.start(config(extraConfig));
  }

  public static GatewayNode start() throws Exception {
    return start("");
  }

  public static Config config(String extraConfig) {
    return ConfigLoader.load(Optional.empty(), ConfigFactory.parseString(hocon(extraConfig)));
  }

  /**
   * The configuration file of a gateway whose target {@code main} is the tests' database, with an
   * in-memory journal, on free ports; {@code extraConfig} overrides last.
   */
  public static String hocon(String extraConfig) {
    TestPostgres.Server pg = TestPostgres.server();
    String base =
        """
        portcullis.listener.port = 0
        portcullis.admin.port = 0
        portcullis.journal.url = "jdbc:h2:mem:journal-%s;DB_CLOSE_DELAY=-1"
        pekko.remote.artery.canonical.port = 0
        pekko.management.http.port = 0
        portcullis.shutdown.drain-deadline = 0s
        pekko.cluster.jmx.multi-mbeans-in-same-jvm = on
        portcullis.targets.main {
          host = "%s"
          port = %d
          database = "%s"
          user = "%s"
          password = "%s"
        }
        """
            .formatted(
                UUID.randomUUID(),
                pg.host(),
                pg.port(),
                TestPostgres.DATABASE,
                pg.user(),
                pg.password());
    return base + "\n" + extraConfig;
  }

  /**
   * HOCON for a gateway that enforces {@code policyFile} and accepts OIDC tokens of the dev issuer
   * whose key is {@code keyFile} (mint them with {@code DevIssuer.load(keyFile)}) from loopback.
   */
  public static String policyWithDevTokens(Path policyFile, Path keyFile) {
    return """
        portcullis.policy.file = "%s"
        portcullis.client-authentication {
          mode = oidc
          insecure-loopback = true
          oidc.dev-issuer { enabled = true, key-file = "%s" }
        }
        """
        .formatted(policyFile, keyFile);
  }

  public static String jdbcUrl(GatewayNode node, String params) {
    return "jdbc:postgresql://127.0.0.1:"
        + node.port()
        + "/main"
        + (params.isEmpty() ? "" : "?" + params);
  }

  public static Connection connect(GatewayNode node, String user, String params)
      throws SQLException {
    Properties props = new Properties();
    props.setProperty("user", user);
    return DriverManager.getConnection(jdbcUrl(node, params), props);
  }

  public static Connection connect(GatewayNode node) throws SQLException {
    return connect(node, "alice", "");
  }
}
