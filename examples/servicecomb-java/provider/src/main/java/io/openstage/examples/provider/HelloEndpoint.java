package io.openstage.examples.provider;

import org.apache.servicecomb.provider.rest.common.RestSchema;
import org.apache.servicecomb.registry.RegistrationManager;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;

import com.netflix.config.DynamicPropertyFactory;
import com.netflix.config.DynamicStringProperty;

/**
 * GET /hello?name=x → a {@link Greeting}. The greeting text is the dynamic property
 * {@code greeting.message} — a kv of the config center, "Hello" until one exists — read on
 * every call, so a change in the config center shows in the next answer without a restart.
 * Before a kv exists it comes from the mounted config file (application.yml imports
 * $CAS_MOUNT_ROOT/config/provider.yaml when present), else "Hello". {@code stage} is the
 * APP_STAGE environment variable (an application configuration variable in the walk-through).
 *
 * (GET /health is the framework's own health check, metrics-core.)
 */
@RestSchema(schemaId = "hello")
@RequestMapping(path = "/")
public class HelloEndpoint {
  private final DynamicStringProperty message =
      DynamicPropertyFactory.getInstance().getStringProperty("greeting.message", "Hello");

  @GetMapping(path = "/hello")
  public Greeting hello(@RequestParam(name = "name", defaultValue = "world") String name) {
    String text = message.get();
    Greeting greeting = new Greeting();
    greeting.setGreeting(text + ", " + name + "!");
    greeting.setMessage(text);
    greeting.setService(RegistrationManager.INSTANCE.getMicroservice().getServiceName());
    greeting.setVersion(RegistrationManager.INSTANCE.getMicroservice().getVersion());
    greeting.setInstanceId(RegistrationManager.INSTANCE.getMicroserviceInstance().getInstanceId());
    greeting.setPort(Integer.parseInt(System.getenv().getOrDefault("PORT", "9093")));
    greeting.setStage(System.getenv("APP_STAGE"));
    return greeting;
  }
}
