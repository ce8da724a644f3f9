package io.openstage.examples.consumer;

import org.apache.servicecomb.springboot2.starter.EnableServiceComb;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.builder.SpringApplicationBuilder;

/** The consumer: a Java Chassis REST service that calls "provider" by its microservice name. */
@SpringBootApplication
@EnableServiceComb
public class ConsumerApplication {
  public static void main(String[] args) {
    new SpringApplicationBuilder().web(WebApplicationType.NONE).sources(ConsumerApplication.class).run(args);
  }
}
