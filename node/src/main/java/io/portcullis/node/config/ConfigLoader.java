package io.portcullis.node.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Builds the effective configuration: environment overrides (CONFIG_FORCE_*), then the operator's
 * file, then the built-in defaults. Resolution happens once, at the end, so that the operator's
 * file can refer to defaults and environment variables.
 */
public final class ConfigLoader {

  private ConfigLoader() {}

  public static Config load(Optional<Path> file, Config overrides) {
    Config operatorFile =
        file.map(
                path ->
                    ConfigFactory.parseFile(
                        path.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)))
            .orElse(ConfigFactory.empty());
    Config layered =
        ConfigFactory.systemEnvironmentOverrides()
            .withFallback(overrides)
            .withFallback(operatorFile)
            .withFallback(ConfigFactory.parseResourcesAnySyntax("application"));
    return ConfigFactory.load(layered);
  }
}
