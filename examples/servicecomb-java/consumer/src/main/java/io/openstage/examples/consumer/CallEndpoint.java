package io.openstage.examples.consumer;

import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.servicecomb.provider.rest.common.RestSchema;
import org.apache.servicecomb.provider.springmvc.reference.RestTemplateBuilder;
import org.apache.servicecomb.registry.RegistrationManager;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.client.RestTemplate;

/**
 * GET /call?name=x → {consumerVersion, consumerPort, provider: the provider's GET /hello answer}.
 * The URL names the provider by its microservice name ("cse://provider/..."): Java Chassis
 * looks its instances up in the service center and balances over them (round robin), so the
 * call only works when discovery through the registry works.
 * (GET /health is the framework's own health check, metrics-core.)
 */
@RestSchema(schemaId = "call")
@RequestMapping(path = "/")
public class CallEndpoint {
  private final RestTemplate restTemplate = RestTemplateBuilder.create();

  @GetMapping(path = "/call")
  @SuppressWarnings("unchecked")
  public Map<String, Object> call(@RequestParam(name = "name", defaultValue = "world") String name) {
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("consumerVersion", RegistrationManager.INSTANCE.getMicroservice().getVersion());
    answer.put("consumerPort", Integer.parseInt(System.getenv().getOrDefault("PORT", "9092")));
    answer.put("provider", restTemplate.getForObject("cse://provider/hello?name={name}", Map.class, name));
    return answer;
  }
}
