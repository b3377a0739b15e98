package dev.moments.app;

import picocli.CommandLine.IVersionProvider;

/** The version from the jar manifest (set by the build). */
final class VersionProvider implements IVersionProvider {
  @Override
  public String[] getVersion() {
    String v = Moments.class.getPackage().getImplementationVersion();
    return new String[] {"moments " + (v == null ? "dev" : v), "Java " + Runtime.version()};
  }
}
