package io.portcullis.persistence.audit;

import io.portcullis.persistence.CborSerializable;

/** An event of a hash chain: a session's, or a day's failed logins. */
public interface ChainedEvent extends CborSerializable {

  /** The event schema version it was written with. */
  int schema();

  /** The hash of the chain's previous event; {@link SessionChain#GENESIS} for the first. */
  String previousHash();
}
