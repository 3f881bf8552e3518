#!/usr/bin/env bash
# Compares pgbench directly against PostgreSQL, through Portcullis, and through pgbouncer (when
# installed), alternating in one run on the same machine, and prints TPS, average latency and the
# ratio to direct for each workload.
#
#   bench/pgbench-compare.sh                 # 20 s per run, as recorded in docs/performance.md
#   DURATION=5 ROUNDS=1 bench/pgbench-compare.sh   # quicker look
#
# Each round runs every workload against every target, alternating; the table shows the median
# TPS and latency over the rounds, and ratios of medians. Loopback benchmarks on two cores swing
# by 20 % from run to run, so one round is a glance, not a figure.
#
# Needs: PostgreSQL on PGHOST:PGPORT (default 127.0.0.1:5432, superuser postgres, trust auth),
# pgbench, Java 17. Builds the gateway jar if it is missing.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
duration=${DURATION:-20}
rounds=${ROUNDS:-3}
scale=${SCALE:-10}
gateway_port=${GATEWAY_PORT:-6433}
bouncer_port=${BOUNCER_PORT:-6434}
db=portcullis_bench
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
trap '[ -f "$work/gateway.log" ] && tail -20 "$work/gateway.log" >&2' ERR
bench_database "$pg_host" "$pg_port" "$pg_user" "$db" "$scale"

cat > "$work/gateway.conf" <<CONF
portcullis.listener.port = $gateway_port
pekko.remote.artery.canonical.port = 0
portcullis.targets = { bench { host = "$pg_host", port = $pg_port, database = "$db", user = "$pg_user" } }
CONF
start_gateway gateway "$gateway_port"

targets=("direct $pg_port" "portcullis $gateway_port")
if command -v pgbouncer >/dev/null; then
  cat > "$work/pgbouncer.ini" <<INI
[databases]
bench = host=$pg_host port=$pg_port dbname=$db user=$pg_user
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $bouncer_port
auth_type = trust
auth_file = $work/userlist.txt
pool_mode = session
max_client_conn = 100
default_pool_size = 20
logfile = $work/pgbouncer.log
pidfile = $work/pgbouncer.pid
INI
  echo "\"$pg_user\" \"\"" > "$work/userlist.txt"
  chown -R postgres "$work" 2>/dev/null || true
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- pgbouncer "$work/pgbouncer.ini" >/dev/null 2>&1 &
  else pgbouncer "$work/pgbouncer.ini" >/dev/null 2>&1 & fi
  pids+=($!)
  targets+=("pgbouncer $bouncer_port")
fi

[ "${#targets[@]}" -lt 3 ] || wait_port "$bouncer_port"

database_for() { case "$1" in direct) echo "$db";; portcullis|pgbouncer) echo bench;; esac; }
run_pgbench() { # name port clients mode seconds
  pgbench -n -S -h 127.0.0.1 -p "$2" -U "$pg_user" -c "$3" -j "$(( $3 < 2 ? 1 : 2 ))" -T "$5" -M "$4" "$(database_for "$1")" 2>&1
}

echo "warming up the gateway's JIT..." >&2
run_pgbench portcullis "$gateway_port" 8 prepared 10 >/dev/null
run_pgbench portcullis "$gateway_port" 8 simple 5 >/dev/null

workloads=("8 simple" "8 extended" "8 prepared" "1 simple")
declare -A tps latency
for round in $(seq 1 "$rounds"); do
  for workload in "${workloads[@]}"; do
    read -r clients mode <<<"$workload"
    for target in "${targets[@]}"; do
      read -r name port <<<"$target"
      out=$(run_pgbench "$name" "$port" "$clients" "$mode" "$duration")
      t=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | head -1)
      l=$(sed -n 's/^latency average = \([0-9.]*\) ms/\1/p' <<<"$out")
      [ -n "$t" ] || { echo "pgbench failed for $name $workload:" >&2; echo "$out" >&2; exit 1; }
      tps[$name,$workload]+="$t "
      latency[$name,$workload]+="$l "
      echo "  round $round: $name -c $clients -M $mode: $t tps" >&2
    done
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { printf "%.0f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
median3() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "pgbench -S, scale $scale, ${duration}s per run, median of $rounds rounds, $(nproc) cores, $(date -u +%F)"
echo
printf '| workload | direct tps (ms) |'; for t in "${targets[@]:1}"; do printf ' %s tps (ms) | %s ratio |' "${t%% *}" "${t%% *}"; done; echo
printf '|---|---|'; for _ in "${targets[@]:1}"; do printf -- '---|---|'; done; echo
for workload in "${workloads[@]}"; do
  read -r clients mode <<<"$workload"
  direct_tps=$(median <<<"${tps[direct,$workload]}")
  printf '| -c %s -M %s | %s (%s) |' "$clients" "$mode" "$direct_tps" "$(median3 <<<"${latency[direct,$workload]}")"
  for t in "${targets[@]:1}"; do
    name=${t%% *}
    target_tps=$(median <<<"${tps[$name,$workload]}")
    ratio=$(awk -v a="$target_tps" -v b="$direct_tps" 'BEGIN { printf "%.2f", a / b }')
    printf ' %s (%s) | %s |' "$target_tps" "$(median3 <<<"${latency[$name,$workload]}")" "$ratio"
  done
  echo
done
