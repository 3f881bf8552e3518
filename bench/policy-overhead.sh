#!/usr/bin/env bash
# The cost of policy on the wire: pgbench -S -c 8 through a gateway enforcing the 50-rule
# bench/policy/fifty-rules.yaml (which allows pgbench) against the same gateway build with no
# policy file (allow everything), alternating in one run, plus direct PostgreSQL for scale.
# The issue budget: the 50-rule gateway keeps >= 0.90 of the allow-everything gateway's TPS.
#
#   bench/policy-overhead.sh                         # 20 s per run after a warm-up, 3 rounds, medians
#   DURATION=5 ROUNDS=1 bench/policy-overhead.sh     # quicker look
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
duration=${DURATION:-20}
rounds=${ROUNDS:-3}
scale=${SCALE:-10}
db=portcullis_bench
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

jar="$root/node/target/portcullis.jar"
[ -f "$jar" ] || (cd "$root" && ./mvnw -B -q -DskipTests package)
psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -tAc \
  "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
  psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres -c "CREATE DATABASE $db"
pgbench -i -q -s "$scale" -h "$pg_host" -p "$pg_port" -U "$pg_user" "$db" >/dev/null 2>&1

start_gateway() { # name port policy-file
  cat > "$work/$1.conf" <<CONF
portcullis.listener.port = $2
portcullis.policy.file = "$3"
pekko.remote.artery.canonical.port = 0
portcullis.targets = { bench { host = "$pg_host", port = $pg_port, database = "$db", user = "$pg_user" } }
CONF
  # shellcheck disable=SC2086
  java ${PORTCULLIS_JAVA_OPTS:--Xmx1g} -jar "$jar" run --config "$work/$1.conf" >"$work/$1.log" 2>&1 &
  pids+=($!)
}
start_gateway allow-all 6441 ""
start_gateway fifty-rules 6442 "$root/bench/policy/fifty-rules.yaml"
for port in 6441 6442; do
  for _ in $(seq 1 60); do pg_isready -q -h 127.0.0.1 -p "$port" && break; sleep 0.5; done
done

run() { # port database -> tps
  pgbench -n -S -c 8 -j 2 -T "$duration" -h 127.0.0.1 -p "$1" -U "$pg_user" "$2" 2>/dev/null |
    awk '/^tps/ { print $3; exit }'
}
# The JIT compiles the policy path during the first seconds; measure the steady state.
for port in 6441 6442; do run "$port" bench >/dev/null; done
declare -A results
for round in $(seq 1 "$rounds"); do
  for target in "direct $pg_port $db" "allow-all 6441 bench" "fifty-rules 6442 bench"; do
    set -- $target
    tps=$(run "$2" "$3")
    results[$1]+="$tps "
    echo "round $round: $1 $tps tps" >&2
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
direct=$(echo "${results[direct]}" | median)
allow=$(echo "${results[allow-all]}" | median)
fifty=$(echo "${results[fifty-rules]}" | median)
printf '%-28s %10s %8s\n' "pgbench -S -c 8 (median)" "TPS" "ratio"
printf '%-28s %10.0f %8s\n' "direct" "$direct" "1.00"
printf '%-28s %10.0f %8.2f\n' "gateway, allow everything" "$allow" "$(echo "$allow / $direct" | bc -l)"
printf '%-28s %10.0f %8.2f\n' "gateway, 50-rule policy" "$fifty" "$(echo "$fifty / $direct" | bc -l)"
printf '%-28s %10s %8.2f\n' "50 rules / allow everything" "" "$(echo "$fifty / $allow" | bc -l)"
