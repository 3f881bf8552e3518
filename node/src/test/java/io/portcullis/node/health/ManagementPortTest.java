package io.portcullis.node.health;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.portcullis.node.testing.TestGateway;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** A management port that is taken stops the start with a message that names the setting. */
class ManagementPortTest {

  @Test
  void aTakenManagementPortStopsTheStartAndNamesTheSetting() throws Exception {
    try (ServerSocket taken = new ServerSocket(0)) {
      assertThatThrownBy(
              () ->
                  TestGateway.start("pekko.management.http.port = " + taken.getLocalPort()).close())
          .hasMessageContaining("pekko.management.http");
    }
  }
}
