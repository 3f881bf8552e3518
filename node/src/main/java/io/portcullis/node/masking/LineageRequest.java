package io.portcullis.node.masking;

/** A statement whose column lineage the masker needs before it can go on. */
public record LineageRequest(String sql, int parameterCount) {}
