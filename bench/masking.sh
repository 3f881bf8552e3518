#!/usr/bin/env bash
# Masking on the wire: a SELECT of 1,000,000 rows x 6 columns, two of them masked (an SSN with
# `partial`, a card number with `hash`) and content detectors on, through a gateway limited to a
# 256 MiB heap, against the same SELECT direct, alternating in one run. Prints rows/s, the ratio,
# and the gateway's largest heap in use (jstat, sampled every 100 ms) during the transfers.
# The issue budget: ratio >= 0.6, heap < 256 MiB.
#
#   bench/masking.sh                  # 3 rounds, medians
#   ROUNDS=1 bench/masking.sh         # quicker look
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
rounds=${ROUNDS:-3}
rows=${ROWS:-1000000}
db=portcullis_bench
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_database "$pg_host" "$pg_port" "$pg_user" "$db" 1
psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$db" <<SQL
DROP TABLE IF EXISTS mask_bench;
CREATE TABLE mask_bench AS
  SELECT g AS id, 'customer ' || g AS name,
         lpad((g % 899 + 100)::text, 3, '0') || '-' || lpad((g % 99 + 1)::text, 2, '0') || '-'
           || lpad((g % 9999 + 1)::text, 4, '0') AS ssn,
         '4111' || lpad(g::text, 12, '0') AS pan,
         (g % 100000) / 100.0 AS amount, date '2026-01-01' + g % 365 AS opened
    FROM generate_series(1, $rows) g;
SQL

cat > "$work/policy.yaml" <<'YAML'
default: allow
masking:
  columns:
    - {id: ssn, columns: [mask_bench.ssn], strategy: partial, keep: 4}
    - {id: pan, columns: [mask_bench.pan], strategy: hash}
  detectors:
    - {id: cards, kind: card, strategy: partial}
    - {id: ssns, kind: ssn, strategy: redact}
YAML
cat > "$work/masking.conf" <<CONF
portcullis.listener.port = 6451
portcullis.policy.file = "$work/policy.yaml"
pekko.remote.artery.canonical.port = 0
portcullis.targets = { bench { host = "$pg_host", port = $pg_port, database = "$db", user = "$pg_user" } }
CONF
PORTCULLIS_JAVA_OPTS="-Xmx256m -Xms256m" start_gateway masking 6451
gateway_pid=${pids[-1]}

# Largest heap in use (survivor + eden + old, KiB) while the sampler runs.
jstat -gc "$gateway_pid" 100 > "$work/jstat.log" &
pids+=($!)

run() { # port database -> seconds for the whole SELECT, rows discarded by psql
  local start end
  start=$(date +%s.%N)
  psql -q -h 127.0.0.1 -p "$1" -U "$pg_user" -d "$2" -c "SELECT * FROM mask_bench" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
run 6451 bench >/dev/null # warm-up: JIT and the catalog
declare -A results
for round in $(seq 1 "$rounds"); do
  for target in "direct $pg_port $db" "masked 6451 bench"; do
    set -- $target
    seconds=$(run "$2" "$3")
    results[$1]+="$(echo "$rows / $seconds" | bc -l) "
    echo "round $round: $1 $seconds s" >&2
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
direct=$(echo "${results[direct]}" | median)
masked=$(echo "${results[masked]}" | median)
heap=$(awk 'NR > 1 && $1 ~ /^[0-9.]+$/ { used = $3 + $4 + $6 + $8; if (used > max) max = used } END { printf "%.0f", max / 1024 }' "$work/jstat.log")
printf '%-40s %12s %8s\n' "SELECT $rows rows x 6 columns (median)" "rows/s" "ratio"
printf '%-40s %12.0f %8s\n' "direct" "$direct" "1.00"
printf '%-40s %12.0f %8.2f\n' "gateway, 2 masked columns + detectors" "$masked" "$(echo "$masked / $direct" | bc -l)"
echo "gateway heap in use, at most: $heap MiB (-Xmx256m)"
grep -q 'OutOfMemoryError' "$work/masking.log" && { echo "the gateway ran out of memory" >&2; exit 1; } || true
