#!/usr/bin/env bash
# The audit journal on the wire: pgbench -S -M simple through a gateway that journals every
# statement durably into PostgreSQL (its own database, portcullis_bench_journal), against direct
# PostgreSQL, with 8 clients and with 1, alternating in one run. The gateway's TPS is also the
# number of statements recorded per second (each is three events: received, decided, completed).
# The issue budget: -c 8 >= 0.35 x direct, -c 1 >= 0.40 x direct, >= 10,000 statements/s.
#
#   bench/journal.sh                       # 20 s per run after a 120 s warm-up, 3 rounds, medians
#   DURATION=5 ROUNDS=1 bench/journal.sh   # quicker look
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
duration=${DURATION:-20}
rounds=${ROUNDS:-3}
scale=${SCALE:-10}
db=portcullis_bench
journal=portcullis_bench_journal
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_database "$pg_host" "$pg_port" "$pg_user" "$db" "$scale"
psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres \
  -c "DROP DATABASE IF EXISTS $journal WITH (FORCE)" -c "CREATE DATABASE $journal"

cat > "$work/journaled.conf" <<CONF
portcullis.journal { url = "jdbc:postgresql://$pg_host:$pg_port/$journal", user = "$pg_user" }
portcullis.listener.port = 6471
pekko.remote.artery.canonical.port = 0
portcullis.targets = { bench { host = "$pg_host", port = $pg_port, database = "$db", user = "$pg_user" } }
CONF
start_gateway journaled 6471

run() { # clients port database -> tps
  pgbench -n -S -M simple -c "$1" -j "$(( $1 > 1 ? 2 : 1 ))" -T "$duration" -h 127.0.0.1 -p "$2" -U "$pg_user" "$3" 2>/dev/null |
    awk '/^tps/ { print $3; exit }'
}
# Warm-up: on two cores the JIT keeps compiling the journal's path for 60-90 s under load.
pgbench -n -S -M simple -c 8 -j 2 -T "${WARMUP:-120}" -h 127.0.0.1 -p 6471 -U "$pg_user" bench >/dev/null 2>&1
declare -A results
for round in $(seq 1 "$rounds"); do
  for clients in 8 1; do
    for target in "direct $pg_port $db" "journaled 6471 bench"; do
      set -- $target
      tps=$(run "$clients" "$2" "$3")
      results[$1-$clients]+="$tps "
      echo "round $round: -c $clients $1 $tps tps" >&2
    done
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
events=$(psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$journal" -tAc "SELECT count(*) FROM event_journal")
printf '%-36s %10s %8s\n' "pgbench -S -M simple (median)" "TPS" "ratio"
for clients in 8 1; do
  direct=$(echo "${results[direct-$clients]}" | median)
  journaled=$(echo "${results[journaled-$clients]}" | median)
  printf '%-36s %10.0f %8s\n' "-c $clients direct" "$direct" "1.00"
  printf '%-36s %10.0f %8.2f\n' "-c $clients gateway, durable journal" "$journaled" "$(echo "$journaled / $direct" | bc -l)"
done
echo "events in the journal after the run: $events"
