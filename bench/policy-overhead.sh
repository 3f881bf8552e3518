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
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_database "$pg_host" "$pg_port" "$pg_user" "$db" "$scale"

gateway() { # name port policy-file
  cat > "$work/$1.conf" <<CONF
portcullis.listener.port = $2
portcullis.policy.file = "$3"
pekko.remote.artery.canonical.port = 0
portcullis.targets = { bench { host = "$pg_host", port = $pg_port, database = "$db", user = "$pg_user" } }
CONF
  start_gateway "$1" "$2"
}
gateway allow-all 6441 ""
gateway fifty-rules 6442 "$root/bench/policy/fifty-rules.yaml"

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
