#!/bin/sh
# One-time step before `docker compose -f deploy/compose.yaml up --build`: creates the keys,
# certificate and passwords of the compose example in deploy/compose/secrets/ (git-ignored).
# Nothing secret is kept in the repository. For the demonstration only: in production each key is
# made and kept by your key management, and the certificate comes from your CA.
#
#   deploy/compose/make-keys.sh            refuses to overwrite existing secrets
#   deploy/compose/make-keys.sh --force    makes new ones (old journal checkpoints then verify
#                                          only against the old signing.pub; old sealed values
#                                          open only with the old sealing.key)
set -eu
cd "$(dirname "$0")"
dir=secrets

if [ -e "$dir/signing.pem" ] && [ "${1:-}" != "--force" ]; then
  echo "make-keys.sh: $dir/ already holds keys; pass --force to replace them" >&2
  exit 1
fi

umask 077
mkdir -p "$dir"
# Only you may enter the directory. The files inside are made readable by others (below) because
# the gateway containers run as uid 10001 and a bind mount keeps the host's owner and mode; the
# directory's mode still keeps other users of this host out.
chmod 700 "$dir"

# 1. TLS certificate and key for the client listener and the admin API. Self-signed, valid for the
#    names clients use: localhost (through HAProxy's published port), the node names and haproxy
#    inside the compose network. The gateway needs the key as unencrypted PKCS#8 (BEGIN PRIVATE KEY).
openssl req -x509 -newkey rsa:3072 -nodes -days 90 -sha256 \
  -subj "/CN=portcullis-compose-demo" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,DNS:haproxy,DNS:node1,DNS:node2,DNS:node3" \
  -keyout "$dir/tls.key.tmp" -out "$dir/tls.crt" 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in "$dir/tls.key.tmp" -out "$dir/tls.key"
rm -f "$dir/tls.key.tmp"

# 2. Masking key: HMAC key of the masking strategy `hash`; the same on every node, so a value hashes
#    the same whichever node served it (portcullis.policy.masking-key-file).
openssl rand -out "$dir/masking.key" 32

# 3. Sealing key: bound parameter values are journaled sealed under it, for `portcullis replay`
#    only (portcullis.journal.sealing-key-file). Keep it apart from the journal's backups.
openssl rand -out "$dir/sealing.key" 32

# 4. Ed25519 key that signs the journal's ledger checkpoints (portcullis.journal.signing-key-file).
#    signing.pub is what auditors give to `portcullis audit verify --public-key`.
openssl genpkey -algorithm ed25519 -out "$dir/signing.pem"
openssl pkey -in "$dir/signing.pem" -pubout -out "$dir/signing.pub"

# 5. Database passwords, each file given only to the containers that need it:
#    gateway.env to the gateway nodes, journal.env to the journal PostgreSQL, target.env to the
#    target PostgreSQL (its superuser's password, and the gateway role's password it sets at init).
journal_password=$(openssl rand -hex 24)
target_password=$(openssl rand -hex 24)
target_superuser_password=$(openssl rand -hex 24)
printf 'PORTCULLIS_JOURNAL_PASSWORD=%s\nTARGET_PASSWORD=%s\n' \
  "$journal_password" "$target_password" >"$dir/gateway.env"
printf 'POSTGRES_PASSWORD=%s\n' "$journal_password" >"$dir/journal.env"
printf 'POSTGRES_PASSWORD=%s\nTARGET_PASSWORD=%s\n' \
  "$target_superuser_password" "$target_password" >"$dir/target.env"

# Readable by the containers' users (uid 10001 for the gateway); see the chmod of the directory.
chmod 644 "$dir"/*

echo "make-keys.sh: wrote tls.crt tls.key masking.key sealing.key signing.pem signing.pub gateway.env journal.env target.env into deploy/compose/$dir/"
echo "make-keys.sh: clients trust deploy/compose/$dir/tls.crt (psql sslrootcert=...)"
