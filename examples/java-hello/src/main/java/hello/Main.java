package hello;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/** OpenStage example service: answers on $PORT with its name, version and instance id. */
public final class Main {
  private Main() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(env("PORT", "8080"));
    String name = env("CAS_COMPONENT_NAME", "java-hello");
    String version = env("CAS_INSTANCE_VERSION", "1.0.0");
    String instance = env("CAS_INSTANCE_ID", name + "-" + ProcessHandle.current().pid());
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
    server.createContext("/", exchange -> {
      boolean health = exchange.getRequestURI().getPath().equals("/health");
      byte[] body = (health ? "ok" : "{\"service\":\"" + name + "\",\"version\":\"" + version + "\",\"instance\":\"" + instance + "\"}").getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("content-type", health ? "text/plain" : "application/json");
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    System.out.println(name + " " + version + " listening on " + port);
  }

  private static String env(String key, String fallback) {
    String value = System.getenv(key);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
