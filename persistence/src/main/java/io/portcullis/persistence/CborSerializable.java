package io.portcullis.persistence;

/**
 * Marker for every message and event that crosses the cluster or enters the journal: Pekko binds it
 * to Jackson CBOR in {@code reference.conf}, so nothing is ever written with Java serialization.
 */
public interface CborSerializable {}
