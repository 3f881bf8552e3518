package io.portcullis.node.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/** One scrape of a node's {@code GET /metrics}: each sample by its name and labels. */
public record MetricsScrape(Map<String, Double> samples) {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  public static MetricsScrape of(int managementPort) throws Exception {
    HttpResponse<String> response =
        HTTP.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + managementPort + "/metrics"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new AssertionError("GET /metrics answered " + response.statusCode());
    }
    Map<String, Double> samples = new HashMap<>();
    for (String line : response.body().split("\n")) {
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int space = line.lastIndexOf(' ');
      samples.put(key(line.substring(0, space)), Double.parseDouble(line.substring(space + 1)));
    }
    return new MetricsScrape(samples);
  }

  /**
   * The value of a sample, e.g. {@code value("portcullis_statements_total", "decision", "deny")}; 0
   * when the node has not reported it yet.
   */
  public double value(String name, String... labels) {
    Map<String, String> sorted = new TreeMap<>();
    for (int i = 0; i < labels.length; i += 2) {
      sorted.put(labels[i], labels[i + 1]);
    }
    return samples.getOrDefault(key(name, sorted), 0.0);
  }

  /** How much a sample moved since {@code before}. */
  public double since(MetricsScrape before, String name, String... labels) {
    return value(name, labels) - before.value(name, labels);
  }

  /** A sample's name with its labels in order, whatever order the exposition used. */
  private static String key(String sample) {
    int brace = sample.indexOf('{');
    if (brace < 0) {
      return sample;
    }
    Map<String, String> labels = new TreeMap<>();
    for (String pair : sample.substring(brace + 1, sample.length() - 1).split(",")) {
      int equals = pair.indexOf('=');
      labels.put(pair.substring(0, equals), pair.substring(equals + 2, pair.length() - 1));
    }
    return key(sample.substring(0, brace), labels);
  }

  private static String key(String name, Map<String, String> labels) {
    return labels.isEmpty() ? name : name + labels;
  }
}
