#!/usr/bin/env bash
# CPU time a proxy process spends per pgbench transaction: less noisy than TPS ratios on a small
# machine, because it does not depend on how the scheduler shares the cores with pgbench and
# PostgreSQL. Run it against a gateway (or pgbouncer) that is already up:
#
#   bench/cpu-per-transaction.sh PID PORT DATABASE [MODE] [TRANSACTIONS_PER_CLIENT]
#   bench/cpu-per-transaction.sh "$(pgrep -f portcullis.jar)" 6433 bench prepared 20000
set -euo pipefail
pid=$1 port=$2 database=$3 mode=${4:-prepared} transactions=${5:-20000} clients=8
ticks=$(getconf CLK_TCK)
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
before=$(cpu_ticks)
out=$(pgbench -n -S -h 127.0.0.1 -p "$port" -U "${PGUSER:-postgres}" -c "$clients" -j 2 \
  -t "$transactions" -M "$mode" "$database" 2>&1)
after=$(cpu_ticks)
tps=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out")
awk -v b="$before" -v a="$after" -v t="$((transactions * clients))" -v hz="$ticks" \
  -v tps="$tps" -v mode="$mode" \
  'BEGIN { printf "-M %s: %.0f tps, %.1f us of proxy CPU per transaction\n", mode, tps, (a - b) / hz * 1e6 / t }'
