package dev.moments.app;

import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The one rule that maps environment variables onto flags: {@code --max-side} is {@code
 * MOMENTS_MAX_SIDE} (drop the dashes, upper-case, '-' becomes '_', prefix {@code MOMENTS_}). A
 * flag given on the command line wins over the environment; the environment wins over the
 * built-in default.
 */
public final class EnvDefaults implements IDefaultValueProvider {
  private final Map<String, String> env;

  public EnvDefaults(Map<String, String> env) {
    this.env = env;
  }

  /** The environment variable of a long option name, e.g. {@code --bootstrap -> MOMENTS_BOOTSTRAP}. */
  public static String variableFor(String longName) {
    String bare = longName.replaceFirst("^-+", "");
    return "MOMENTS_" + bare.toUpperCase(Locale.ROOT).replace('-', '_').replace('.', '_');
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (arg instanceof OptionSpec option && option.longestName().startsWith("--")
        && !option.usageHelp() && !option.versionHelp()) {
      String value = env.get(variableFor(option.longestName()));
      if (value != null && !value.isEmpty()) {
        return value;
      }
    }
    return null;
  }
}
