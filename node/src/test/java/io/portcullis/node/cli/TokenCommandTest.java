package io.portcullis.node.cli;

import static io.portcullis.node.testing.Cli.portcullis;
import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.node.GatewayNode;
import io.portcullis.node.config.ConfigLoader;
import io.portcullis.node.testing.Cli.Run;
import io.portcullis.node.testing.TestGateway;
import io.portcullis.node.testing.TestTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code portcullis token mint}: refused unless the dev issuer is on; its tokens then log in. */
class TokenCommandTest {

  @Test
  void refusedWhileTheDevIssuerIsDisabled() {
    Run run = portcullis("token", "mint", "--sub", "alice");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("dev issuer is disabled");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void badArgumentsAreRefused() {
    assertThat(portcullis("token", "mint").exitCode()).isNotZero();
    assertThat(portcullis("token", "mint", "--sub", "a", "--ttl", "soon").exitCode()).isNotZero();
  }

  @Test
  void mintedTokensLogInWhenTheGatewayTrustsTheDevIssuer(@TempDir Path dir) throws Exception {
    Path config = dir.resolve("gateway.conf");
    Files.writeString(
        config,
        "portcullis.client-authentication { mode = oidc, oidc.dev-issuer { enabled = true,"
            + " key-file = \""
            + dir.resolve("dev.jwk")
            + "\" } }\n");
    Run mint =
        portcullis(
            "token",
            "mint",
            "--sub",
            "carol",
            "--groups",
            "analysts",
            "--agent",
            "--config",
            config.toString());
    assertThat(mint.exitCode()).as(mint.err()).isZero();
    assertThat(mint.out()).matches("[\\w-]+\\.[\\w-]+\\.[\\w-]+");
    assertThat(Files.getPosixFilePermissions(dir.resolve("dev.jwk")))
        .isEqualTo(PosixFilePermissions.fromString("rw-------"));

    try (GatewayNode gateway =
        GatewayNode.start(
            TestGateway.config(Files.readString(config) + TestTls.listenerConfig()))) {
      try (Connection c =
              DriverManager.getConnection(
                  TestGateway.jdbcUrl(gateway, "sslmode=require"), "carol", mint.out());
          ResultSet rs = c.createStatement().executeQuery("SELECT 'minted'")) {
        rs.next();
        assertThat(rs.getString(1)).isEqualTo("minted");
      }
    }
    assertThat(
            ConfigLoader.load(Optional.of(config), com.typesafe.config.ConfigFactory.empty())
                .getBoolean("portcullis.client-authentication.oidc.dev-issuer.enabled"))
        .isTrue();
  }
}
