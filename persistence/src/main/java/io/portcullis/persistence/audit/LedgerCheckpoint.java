package io.portcullis.persistence.audit;

import java.time.Instant;
import java.util.List;

/**
 * A node's signed statement of how far its sessions' journals had got, in the node's ledger ({@link
 * Ledger}). Checkpoints are chained like a session's events, so a deleted or edited one breaks the
 * ledger; and since each names the heads of the sessions that moved, a session deleted or cut short
 * afterwards no longer matches the last checkpoint that holds it.
 *
 * @param number the checkpoint's number in its node's ledger, from 1 (its sequence number there)
 * @param heads the sessions whose journals moved since the previous checkpoint, each at its last
 *     event then
 * @param publicKey the signer's Ed25519 public key: X.509 SubjectPublicKeyInfo DER in Base64
 * @param signature Base64 Ed25519 signature over {@link #signedBytes()}
 */
public record LedgerCheckpoint(
    int schema,
    Instant at,
    String node,
    long number,
    List<SessionHead> heads,
    String previousHash,
    String publicKey,
    String signature)
    implements ChainedEvent {

  public LedgerCheckpoint {
    heads = List.copyOf(heads);
  }

  /** What the signature covers: the checkpoint's canonical encoding with an empty signature. */
  public byte[] signedBytes() {
    return SessionChain.canonicalBytes(
        new LedgerCheckpoint(schema, at, node, number, heads, previousHash, publicKey, ""));
  }

  LedgerCheckpoint signed(String signature) {
    return new LedgerCheckpoint(
        schema, at, node, number, heads, previousHash, publicKey, signature);
  }
}
