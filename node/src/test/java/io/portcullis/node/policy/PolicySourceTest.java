package io.portcullis.node.policy;

import static org.assertj.core.api.Assertions.assertThat;

import io.portcullis.policy.rules.Policy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The policy in force on a node: its file, and a policy adopted from another node, which the node
 * only gives up when its own file changes.
 */
class PolicySourceTest {

  private static final String ALLOW = "default: allow\nrules: []\n";
  private static final String DENY = "default: deny\nrules: []\n";

  @TempDir Path dir;

  @Test
  void aPolicyFromAnotherNodeComesIntoForceOnlyIfItValidatesAndIsNotPublishedAgain()
      throws Exception {
    Path file = Files.writeString(dir.resolve("policy.yaml"), ALLOW);
    PolicySource source = PolicySource.load(Optional.of(file));
    List<Policy> inForce = new ArrayList<>();
    List<Policy> fromFile = new ArrayList<>();
    source.whenInForce(inForce::add);
    source.whenFileChanges(fromFile::add);

    source.adopt("default: maybe\nrules: [", "the cluster");
    assertThat(source.get().source()).isEqualTo(ALLOW);

    source.adopt(DENY, "the cluster");
    assertThat(source.get().source()).isEqualTo(DENY);
    assertThat(inForce).extracting(Policy::source).containsExactly(ALLOW, DENY);
    assertThat(fromFile).as("an adopted policy is not this node's change").isEmpty();

    source.reloadIfChanged();
    assertThat(source.get().source())
        .as("the unchanged file does not turn the cluster's policy back")
        .isEqualTo(DENY);

    Files.writeString(file, ALLOW + "# reviewed\n");
    source.reloadIfChanged();
    assertThat(source.get().source()).isEqualTo(ALLOW + "# reviewed\n");
    assertThat(fromFile).extracting(Policy::source).containsExactly(ALLOW + "# reviewed\n");
  }
}
