package io.portcullis.node.masking;

/** A column of a base relation, named as PostgreSQL names it: unquoted, exact case. */
public record SourceColumn(String schema, String table, String column) {}
