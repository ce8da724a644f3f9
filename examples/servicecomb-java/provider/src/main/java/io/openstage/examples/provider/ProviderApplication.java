package io.openstage.examples.provider;

import org.apache.servicecomb.springboot2.starter.EnableServiceComb;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;

/**
 * The provider: a Java Chassis REST service registered in the service center as
 * "provider" of the application named by CAS_APPLICATION_NAME (see application.yml).
 * Java Chassis serves REST itself (Vert.x), so Spring's own web server stays off.
 */
@SpringBootApplication
@EnableServiceComb
public class ProviderApplication {
  public static void main(String[] args) {
    new SpringApplicationBuilder().web(WebApplicationType.NONE).sources(ProviderApplication.class).run(args);
  }
}
