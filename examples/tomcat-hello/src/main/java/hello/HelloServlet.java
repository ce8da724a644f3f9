package hello;

import jakarta.servlet.annotation.WebServlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;

/**
 * OpenStage example web application: deployed as ROOT.war, it answers {@code GET /} with its
 * name, version, instance id, port and the Tomcat version, and {@code GET /health} with "ok".
 */
@WebServlet(urlPatterns = {"", "/health"})
public final class HelloServlet extends HttpServlet {
  @Override
  protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
    resp.setCharacterEncoding("UTF-8");
    if ("/health".equals(req.getServletPath())) {
      resp.setContentType("text/plain");
      resp.getWriter().write("ok");
      return;
    }
    String name = env("CAS_COMPONENT_NAME", "tomcat-hello");
    String version = env("CAS_INSTANCE_VERSION", "1.0.0");
    String instance = env("CAS_INSTANCE_ID", name);
    String port = env("PORT", String.valueOf(req.getLocalPort()));
    resp.setContentType("application/json");
    resp.getWriter().write("{\"service\":\"" + json(name) + "\",\"version\":\"" + json(version) + "\",\"instance\":\"" + json(instance)
        + "\",\"port\":\"" + json(port) + "\",\"server\":\"" + json(getServletContext().getServerInfo()) + "\"}");
  }

  private static String env(String key, String fallback) {
    String value = System.getenv(key);
    return value == null || value.isEmpty() ? fallback : value;
  }

  private static String json(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
