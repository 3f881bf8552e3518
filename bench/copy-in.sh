#!/usr/bin/env bash
# COPY ... FROM STDIN through a gateway that journals the data durably into PostgreSQL (its own
# database, portcullis_bench_journal), sealed or only counted, against direct PostgreSQL:
# psql \copy of a generated file, alternating, a few rounds; the median of each, in MB/s.
#
#   bench/copy-in.sh                 # 100 MB, 3 rounds
#   MEGABYTES=20 ROUNDS=1 bench/copy-in.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
megabytes=${MEGABYTES:-100}
rounds=${ROUNDS:-3}
db=portcullis_bench
journal=portcullis_bench_journal
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" |
  grep -q 1 || psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -c "CREATE DATABASE $db"
psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres \
  -c "DROP DATABASE IF EXISTS $journal WITH (FORCE)" -c "CREATE DATABASE $journal"
psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$db" \
  -c "DROP TABLE IF EXISTS copy_in" -c "CREATE TABLE copy_in (id int, name text, note text)"

rows=$(( megabytes * 1024 * 1024 / 100 ))
psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$db" -c \
  "COPY (SELECT g, 'customer ' || g, repeat('x', 70) FROM generate_series(1, $rows) g) TO STDOUT" > "$work/rows.tsv"
bytes=$(stat -c %s "$work/rows.tsv")
openssl rand -out "$work/sealing.key" 32

for name in sealed counted; do
  port=$([ $name = sealed ] && echo 6481 || echo 6482)
  cat > "$work/$name.conf" <<CONF
portcullis.journal { url = "jdbc:postgresql://$pg_host:$pg_port/$journal", user = "$pg_user" }
portcullis.listener.port = $port
pekko.remote.artery.canonical.port = 0
pekko.management.http.port = $(( port + 1000 ))
portcullis.targets = { bench { host = "$pg_host", port = $pg_port, database = "$db", user = "$pg_user" } }
CONF
  [ $name = sealed ] && echo "portcullis.journal.sealing-key-file = \"$work/sealing.key\"" >> "$work/$name.conf"
  start_gateway $name $port
done

copy() { # port database -> seconds
  psql -q -h 127.0.0.1 -p "$1" -U "$pg_user" -d "$2" -c "TRUNCATE copy_in" >/dev/null
  local start end
  start=$(date +%s.%N)
  psql -q -h 127.0.0.1 -p "$1" -U "$pg_user" -d "$2" -c "\\copy copy_in FROM '$work/rows.tsv'" >/dev/null
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}
# Warm-up: the JIT compiles AES-GCM's intrinsics only after a few hundred chunks have been sealed.
for _ in 1 2 3; do copy 6481 bench >/dev/null; copy 6482 bench >/dev/null; done
declare -A results
for round in $(seq 1 "$rounds"); do
  for target in "direct $pg_port $db" "sealed 6481 bench" "counted 6482 bench"; do
    set -- $target
    seconds=$(copy "$2" "$3")
    results[$1]+="$seconds "
    echo "round $round: $1 $seconds s" >&2
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
journal_bytes=$(psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$journal" -tAc \
  "SELECT pg_size_pretty(pg_total_relation_size('event_journal'))")
direct=$(echo "${results[direct]}" | median)
printf '%-44s %8s %8s\n' "\\copy of $(( bytes / 1024 / 1024 )) MB (median)" "MB/s" "ratio"
for name in direct sealed counted; do
  seconds=$(echo "${results[$name]}" | median)
  printf '%-44s %8.1f %8.2f\n' "$name" "$(echo "$bytes / 1048576 / $seconds" | bc -l)" "$(echo "$direct / $seconds" | bc -l)"
done
echo "journal size after the run: $journal_bytes"
