package io.portcullis.node.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigList;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigUtil;
import com.typesafe.config.ConfigValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Refuses {@code portcullis} settings the gateway does not know. HOCON ignores a key nobody reads,
 * so a misspelled one ({@code insecure-loopbak}, {@code certficate-file}) would leave its default
 * in force without a word: for a security setting, the opposite of what the operator wrote.
 *
 * <p>The known keys are those of the built-in defaults, except where the operator names things:
 * targets (each checked against {@code target-defaults}), the password list, and the entries of
 * lists (issuers against {@code issuer-defaults}; webhooks and group logins against their keys).
 */
final class UnknownSettings {

  private static final String ROOT = "portcullis";
  private static final String TARGETS = "portcullis.targets";
  private static final String TARGET = TARGETS + ".*";
  private static final String ISSUER = "portcullis.client-authentication.oidc.issuers[]";
  private static final String WEBHOOK = "portcullis.approvals.webhooks[]";
  private static final String GROUP_LOGIN = TARGET + ".group-logins[]";

  /** Where the operator names the keys: any key is accepted and nothing below it is checked. */
  private static final Set<String> NAMED_BY_OPERATOR =
      Set.of(
          "portcullis.client-authentication.passwords",
          WEBHOOK + ".headers",
          WEBHOOK + ".headers-env");

  /** Entries whose keys are those of a defaults section, plus some of their own. */
  private static final Map<String, String> DEFAULTS_OF =
      Map.of(
          TARGET, "portcullis.target-defaults",
          ISSUER, "portcullis.client-authentication.oidc.issuer-defaults");

  private static final Map<String, Set<String>> OWN_KEYS =
      Map.of(
          TARGET, Set.of("host", "database", "user"),
          ISSUER, Set.of("issuer"),
          WEBHOOK, Set.of("url", "format", "headers", "headers-env"),
          GROUP_LOGIN, Set.of("group", "user", "password", "password-env", "password-file"));

  private final Config defaults;
  private final List<ConfigException.ValidationProblem> problems = new ArrayList<>();

  private UnknownSettings(Config defaults) {
    this.defaults = defaults;
  }

  /**
   * @param given what the operator set (file and overrides), unresolved
   * @param defaults the built-in defaults, resolved
   * @throws ConfigException.ValidationFailed naming every unknown key, where it was set, and the
   *     keys known in its place
   */
  static void check(Config given, Config defaults) {
    UnknownSettings check = new UnknownSettings(defaults);
    if (given.root().get(ROOT) instanceof ConfigObject portcullis) {
      check.walk(ROOT, ROOT, portcullis);
    }
    if (!check.problems.isEmpty()) {
      throw new ConfigException.ValidationFailed(check.problems);
    }
  }

  /**
   * @param schema the path with target names as {@code *} and list entries as {@code []}
   * @param path the path as the operator wrote it
   */
  private void walk(String schema, String path, ConfigObject object) {
    Set<String> known = schema.equals(TARGETS) ? null : knownKeys(schema);
    Set<Map.Entry<String, ConfigValue>> entries;
    try {
      entries = object.entrySet();
    } catch (ConfigException.NotResolved e) {
      return; // an object merged with a substitution: its keys are known only once resolved
    }
    for (Map.Entry<String, ConfigValue> entry : entries) {
      String key = entry.getKey();
      String childPath = path + "." + ConfigUtil.joinPath(key);
      if (known != null && !known.contains(key)) {
        problems.add(
            new ConfigException.ValidationProblem(
                childPath,
                entry.getValue().origin(),
                "not a setting of "
                    + path
                    + (known.isEmpty() ? "" : " (known here: " + String.join(", ", known) + ")")
                    + "; see docs/configuration.md"));
        continue;
      }
      String childSchema = schema.equals(TARGETS) ? TARGET : schema + "." + key;
      if (!NAMED_BY_OPERATOR.contains(childSchema)) {
        descend(childSchema, childPath, entry.getValue());
      }
    }
  }

  private void descend(String schema, String path, ConfigValue value) {
    if (value instanceof ConfigObject object) {
      walk(schema, path, object);
    } else if (value instanceof ConfigList list) {
      for (int i = 0; i < list.size(); i++) {
        if (list.get(i) instanceof ConfigObject entry) {
          walk(schema + "[]", path + "[" + i + "]", entry);
        }
      }
    }
  }

  private Set<String> knownKeys(String schema) {
    Set<String> known = new TreeSet<>(OWN_KEYS.getOrDefault(schema, Set.of()));
    String section = schema;
    for (Map.Entry<String, String> defaultsOf : DEFAULTS_OF.entrySet()) {
      if (schema.equals(defaultsOf.getKey()) || schema.startsWith(defaultsOf.getKey() + ".")) {
        section = defaultsOf.getValue() + schema.substring(defaultsOf.getKey().length());
      }
    }
    if (!section.contains("[]")
        && defaults.hasPath(section)
        && defaults.getValue(section) instanceof ConfigObject keys) {
      known.addAll(keys.keySet());
    }
    return known;
  }
}
