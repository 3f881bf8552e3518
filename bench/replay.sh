#!/usr/bin/env bash
# Session replay and what-if budgets (docs/replay.md), against the PostgreSQL named by
# PORTCULLIS_TEST_PG_URL (postgresql://user@host:port), like the tests.
#
#   bench/replay.sh                 # replay speed: N statements recorded through a gateway, then
#                                   # run directly with pgjdbc and replayed, alternating, after 3
#                                   # warm-up rounds; budget: median replay >= 0.5 x pgjdbc
#   STATEMENTS=3000 ROUNDS=3 bench/replay.sh
#   bench/replay.sh whatif          # generates a journal of 1,000,000 statements (10,000 sessions
#                                   # of 100), then times `portcullis policy whatif` over it;
#                                   # budget: < 60 s
#   SESSIONS=1000 bench/replay.sh whatif   # a smaller journal
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
: "${PORTCULLIS_TEST_PG_URL:?set PORTCULLIS_TEST_PG_URL=postgresql://user@host:port}"
./mvnw -B -q -Dfmt.skip test-compile dependency:build-classpath \
  -Dmdep.outputFile=target/classpath.txt -pl node -am
classpath="node/target/test-classes:node/target/classes:$(cat node/target/classpath.txt)"
for module in protocol policy persistence; do classpath="$classpath:$module/target/classes"; done
java_opts=${PORTCULLIS_JAVA_OPTS:--Xmx2g}

if [ "${1:-replay}" != whatif ]; then
  # shellcheck disable=SC2086
  exec java $java_opts -cp "$classpath" io.portcullis.node.benchmarks.ReplaySpeed \
    "${STATEMENTS:-10000}" "${ROUNDS:-5}"
fi

database=portcullis_bench_whatif
sessions=${SESSIONS:-10000}
per_session=${PER_SESSION:-100}
# shellcheck disable=SC2086
java $java_opts -cp "$classpath" io.portcullis.node.benchmarks.WhatIfJournal \
  "$database" "$sessions" "$per_session"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
url=${PORTCULLIS_TEST_PG_URL#postgresql://}
user=${url%%@*}
hostport=${url#*@}
cat > "$work/gateway.conf" <<CONF
portcullis.journal { url = "jdbc:postgresql://$hostport/$database", user = "$user" }
portcullis.targets.main { host = "${hostport%:*}", port = ${hostport#*:}, database = "$database", user = "$user" }
CONF
# The candidate: the recorded policy with updates reviewed and exports denied.
cat > "$work/candidate.yaml" <<'YAML'
default: allow
rules:
  - id: no-ddl
    when: {kinds: [ddl]}
    decision: deny
    reason: DDL is refused
  - id: deletes-reviewed
    when: {kinds: [delete]}
    decision: review
    reason: deletes need an analyst
    approval: {mode: wait, timeout: 30s, approvers: [security-analysts]}
  - id: updates-reviewed
    when: {kinds: [update]}
    decision: review
    reason: updates need an analyst
    approval: {mode: wait, timeout: 30s, approvers: [security-analysts]}
  - id: no-export
    when: {kinds: [copy-out]}
    decision: deny
masking:
  columns:
    - {id: ssn, columns: [replay_bank.customers.ssn], strategy: partial, keep: 4}
    - {id: email, columns: [replay_bank.customers.email], strategy: hash}
    - {id: names, columns: [replay_bank.customers.name], strategy: redact}
YAML
start=$(date +%s.%N)
# shellcheck disable=SC2086
java $java_opts -cp "$classpath" io.portcullis.node.cli.PortcullisCommand policy whatif \
  --config "$work/gateway.conf" --policy "$work/candidate.yaml" --since 2000-01-01T00:00:00Z \
  > "$work/report.txt"
end=$(date +%s.%N)
head -3 "$work/report.txt"
echo "policy whatif over $((sessions * per_session)) statements: $(echo "$end - $start" | bc) s (budget 60 s)"
