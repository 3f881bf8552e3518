package io.portcullis.node.policy;

import io.portcullis.policy.catalog.CatalogDependencies;
import io.portcullis.policy.catalog.Relations;

/**
 * What the gateway knows of one target's catalog: what views and functions are built on, for
 * policy, and which table and column each relation OID and column number is, for masking.
 */
public record TargetCatalog(CatalogDependencies dependencies, Relations relations) {

  public static TargetCatalog empty() {
    return new TargetCatalog(CatalogDependencies.empty(), Relations.empty());
  }
}
