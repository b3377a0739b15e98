package dev.moments.app;

import java.io.IOException;
import java.io.UncheckedIOException;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParseResult;

/**
 * Turns the errors a user can cause (bad input, bad files, unreachable services) into one clear
 * line on stderr and exit code 1; anything else is a bug and keeps its stack trace (exit 2).
 */
final class ErrorHandler implements IExecutionExceptionHandler {
  @Override
  public int handleExecutionException(Exception ex, CommandLine cl, ParseResult parsed) {
    Throwable t = ex;
    if (t instanceof UncheckedIOException u) {
      t = u.getCause();
    }
    if (t instanceof IllegalArgumentException
        || t instanceof IllegalStateException
        || t instanceof IOException
        || t instanceof UserError) {
      cl.getErr().println("moments " + cl.getCommandName() + ": " + message(t));
      return 1;
    }
    cl.getErr().println("moments " + cl.getCommandName() + ": internal error");
    ex.printStackTrace(cl.getErr());
    return 2;
  }

  private static String message(Throwable t) {
    String m = t.getMessage();
    if (t instanceof java.nio.file.NoSuchFileException) {
      return "no such file: " + m;
    }
    return m == null ? t.getClass().getSimpleName() : m;
  }

  /** A failure caused by the user's input whose message is the whole story. */
  static final class UserError extends RuntimeException {
    UserError(String message) {
      super(message);
    }
  }
}
