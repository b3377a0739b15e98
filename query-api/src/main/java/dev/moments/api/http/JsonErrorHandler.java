package dev.moments.api.http;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.handler.ErrorHandler;
import org.eclipse.jetty.util.Callback;

/**
 * Jetty's error answers as the API's {@code {"error": "..."}} JSON instead of HTML pages. Jetty
 * answers some requests itself, before Javalin sees them: a request line or URI over the header
 * buffer (414), headers over it (431), a malformed request (400).
 */
final class JsonErrorHandler extends ErrorHandler {
  @Override
  protected void generateResponse(Request request, Response response, int code, String message, Throwable cause,
      Callback callback) throws IOException {
    headers(response.getHeaders());
    response.write(true, ByteBuffer.wrap(json(code, message)), callback);
  }

  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    headers(fields);
    return ByteBuffer.wrap(json(status, reason));
  }

  private static void headers(HttpFields.Mutable fields) {
    fields.put(HttpHeader.CONTENT_TYPE, "application/json");
    ApiServer.SECURITY_HEADERS.forEach(fields::put);
  }

  static byte[] json(int code, String message) {
    String text = switch (code) {
      case 414 -> "request URI too long";
      case 431 -> "request headers too large";
      default -> "HTTP " + code + (message == null || message.isBlank() ? "" : ": " + message);
    };
    return ("{\"error\":\"" + escape(text) + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  private static String escape(String s) {
    StringBuilder b = new StringBuilder();
    for (char c : s.toCharArray()) {
      if (c == '"' || c == '\\') {
        b.append('\\').append(c);
      } else if (c < 0x20) {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

}
