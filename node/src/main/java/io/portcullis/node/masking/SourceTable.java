package io.portcullis.node.masking;

/** A base relation whose whole row a value is computed from, such as {@code row_to_json(c.*)}. */
public record SourceTable(String schema, String table) {}
