package io.portcullis.node.policy;

import io.portcullis.policy.rules.Policy;
import io.portcullis.policy.rules.PolicyException;
import io.portcullis.policy.rules.PolicyParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy in force on this node: read from the policy file at start (a file that does not
 * validate stops the start) and read again whenever its content changes. A changed file that does
 * not validate is refused with its problems logged, and the previous policy stays in force. A
 * policy that came into force on another node of the cluster is adopted too ({@link #adopt}), so
 * that a change made on one node is enforced by all.
 */
public final class PolicySource implements Supplier<Policy> {

  private static final Logger log = LoggerFactory.getLogger(PolicySource.class);

  /**
   * Without a policy file every statement is allowed, and still recorded: also those the policy
   * engine cannot parse, so that the gateway is transparent (a typo gets PostgreSQL's own error).
   */
  static final String ALLOW_ALL =
      """
      default: allow
      rules:
        - id: no-policy-file
          when: { kinds: [unparsed] }
          decision: allow
      """;

  private final Optional<Path> file;
  private volatile Policy current;
  private final List<Consumer<Policy>> listeners = new CopyOnWriteArrayList<>();
  private final List<Consumer<Policy>> fileListeners = new CopyOnWriteArrayList<>();

  /** The file's content as last read, which may differ from the policy adopted since. */
  private String fileText;

  /** The last content refused, so that an unchanged bad file is reported once, not every check. */
  private String refused = "";

  private PolicySource(Optional<Path> file, Policy initial) {
    this.file = file;
    this.current = initial;
    this.fileText = initial.source();
  }

  /** Loads the policy file, or the allow-all policy when there is none. */
  public static PolicySource load(Optional<Path> file) throws PolicyException, IOException {
    if (file.isEmpty()) {
      log.warn(
          "No policy file (portcullis.policy.file): every statement is allowed."
              + " Configure a policy before agents connect.");
      return new PolicySource(file, PolicyParser.parse("built-in policy", ALLOW_ALL));
    }
    Policy policy = read(file.get());
    log.info("policy {} in force from {}", policy.shortVersion(), file.get());
    return new PolicySource(file, policy);
  }

  /** Tells {@code listener} of the policy in force now, and of every policy that replaces it. */
  public void whenInForce(Consumer<Policy> listener) {
    listeners.add(listener);
    listener.accept(current);
  }

  /** Tells {@code listener} of every policy that comes into force from a change of the file. */
  public void whenFileChanges(Consumer<Policy> listener) {
    fileListeners.add(listener);
  }

  @Override
  public Policy get() {
    return current;
  }

  /** Reads the file again; a new valid content comes into force at once. */
  public synchronized void reloadIfChanged() {
    if (file.isEmpty()) {
      return;
    }
    Path path = file.get();
    try {
      String text = Files.readString(path, StandardCharsets.UTF_8);
      if (text.equals(fileText) || text.equals(refused)) {
        return;
      }
      refused = text;
      Policy policy = PolicyParser.parse(path.toString(), text);
      refused = "";
      fileText = text;
      inForce(policy, path.toString());
      fileListeners.forEach(listener -> listener.accept(policy));
    } catch (PolicyException e) {
      log.error(
          "policy file {} changed but does not validate; policy {} stays in force:\n{}",
          path,
          current.shortVersion(),
          e.getMessage());
    } catch (IOException e) {
      log.error(
          "policy file {} cannot be read ({}); policy {} stays in force",
          path,
          e.getMessage(),
          current.shortVersion());
    }
  }

  /**
   * Puts into force a policy that came into force elsewhere ({@code origin} says where). One that
   * does not validate here is refused with its problems logged.
   */
  public synchronized void adopt(String text, String origin) {
    if (text.equals(current.source())) {
      return;
    }
    try {
      inForce(PolicyParser.parse(origin, text), origin);
    } catch (PolicyException e) {
      log.error(
          "the policy from {} does not validate on this node; policy {} stays in force:\n{}",
          origin,
          current.shortVersion(),
          e.getMessage());
    }
  }

  private void inForce(Policy policy, String origin) {
    log.info(
        "policy {} in force from {} (was {})",
        policy.shortVersion(),
        origin,
        current.shortVersion());
    current = policy;
    listeners.forEach(listener -> listener.accept(policy));
  }

  private static Policy read(Path path) throws PolicyException, IOException {
    return PolicyParser.parse(path.toString(), Files.readString(path, StandardCharsets.UTF_8));
  }
}
