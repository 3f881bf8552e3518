package io.portcullis.node.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Builds the effective configuration: environment overrides (CONFIG_FORCE_*), then programmatic
 * overrides, then the operator's file, then the built-in defaults. Resolution happens once, at the
 * end, so that the operator's file can refer to defaults and environment variables. A {@code
 * portcullis} key the defaults do not know is refused ({@link UnknownSettings}).
 */
public final class ConfigLoader {

  private static final String TARGETS = "portcullis.targets";

  private ConfigLoader() {}

  /** The built-in defaults, unresolved: application.conf and the files it includes. */
  static Config builtInDefaults() {
    return ConfigFactory.parseResourcesAnySyntax("application");
  }

  public static Config load(Optional<Path> file, Config overrides) {
    Config operatorFile =
        file.map(
                path ->
                    ConfigFactory.parseFile(
                        path.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)))
            .orElse(ConfigFactory.empty());
    Config given = overrides.withFallback(operatorFile);
    Config defaults = builtInDefaults();
    UnknownSettings.check(given, defaults.resolve());
    if (given.hasPath(TARGETS)) {
      // Targets the operator lists replace the built-in local one instead of joining it.
      defaults = defaults.withoutPath(TARGETS);
    }
    Config layered =
        ConfigFactory.systemEnvironmentOverrides().withFallback(given).withFallback(defaults);
    return ConfigFactory.load(layered);
  }
}
