#!/usr/bin/env bash
# The cluster on one machine: pgbench -S -M simple -c 8 (or CLIENTS) through HAProxy to one
# gateway node and to two nodes of one cluster, against direct PostgreSQL, alternating in one run;
# the gateway's messages between nodes per statement (from /metrics); then node loss (kill -9 of
# node 2: how long until a client that reconnects through HAProxy runs a statement again) and a new
# node (how long from its start until it is ready, and until HAProxy gives it a session).
# Issue #8's budget: two nodes >= one node's TPS with zero cross-node messages per statement;
# reconnect after node loss within 5 s; a new node takes traffic within 15 s.
#
#   bench/cluster.sh                       # 20 s per run after a 30 s warm-up, 3 rounds, medians
#   DURATION=5 ROUNDS=1 WARMUP=5 bench/cluster.sh
#   CLIENTS=32 bench/cluster.sh            # pgbench clients (default 8)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
duration=${DURATION:-20}
clients=${CLIENTS:-8}
rounds=${ROUNDS:-3}
scale=${SCALE:-10}
db=portcullis_bench
journal=portcullis_bench_cluster_journal
command -v haproxy >/dev/null || { echo "needs haproxy (apt-get install haproxy)" >&2; exit 1; }
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_database "$pg_host" "$pg_port" "$pg_user" "$db" "$scale"
psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres \
  -c "DROP DATABASE IF EXISTS $journal WITH (FORCE)" -c "CREATE DATABASE $journal"

# node N: clients on 648N, management on 763N, cluster on 736N; node 1 is the seed.
node_conf() {
  cat > "$work/node$1.conf" <<CONF
portcullis.journal { url = "jdbc:postgresql://$pg_host:$pg_port/$journal", user = "$pg_user" }
portcullis.listener.port = 648$1
pekko.management.http.port = 763$1
pekko.remote.artery.canonical.port = 736$1
pekko.cluster.seed-nodes = ["pekko://portcullis@127.0.0.1:7361"]
portcullis.targets = { bench { host = "$pg_host", port = $pg_port, database = "$db", user = "$pg_user" } }
CONF
}
wait_ready() { # node -> waits for /ready 200
  for _ in $(seq 1 300); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:763$1/ready")" = 200 ] && return 0
    sleep 0.1
  done
  echo "node $1 never became ready" >&2
  return 1
}
now_ms() { date +%s%3N; }

for n in 1 2 3; do node_conf "$n"; done
start_gateway node1 6481
wait_ready 1
start_gateway node2 6482
wait_ready 2

cat > "$work/haproxy.cfg" <<CFG
defaults
  mode tcp
  timeout connect 2s
  timeout client 1h
  timeout server 1h
  retries 3
  option redispatch
backend one
  option httpchk
  http-check send meth GET uri /ready ver HTTP/1.1 hdr Host portcullis
  default-server inter 500ms fall 2 rise 1
  server node1 127.0.0.1:6481 check port 7631
backend cluster
  balance roundrobin
  option httpchk
  http-check send meth GET uri /ready ver HTTP/1.1 hdr Host portcullis
  default-server inter 500ms fall 2 rise 1
  server node1 127.0.0.1:6481 check port 7631
  server node2 127.0.0.1:6482 check port 7632
  server node3 127.0.0.1:6483 check port 7633
frontend to_one
  bind 127.0.0.1:6490
  default_backend one
frontend to_cluster
  bind 127.0.0.1:6491
  default_backend cluster
CFG
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
wait_port 6491
sleep 2

run() { # port database -> tps
  pgbench -n -S -M simple -c "$clients" -j 2 -T "$duration" -h 127.0.0.1 -p "$1" -U "$pg_user" "$2" 2>/dev/null |
    awk '/^tps/ { print $3; exit }'
}
gateway_messages() { # node -> gateway messages sent to other nodes, statements judged
  curl -s "http://127.0.0.1:763$1/metrics" | awk '
    /^portcullis_cluster_messages_total\{/ && /direction="sent"/ && /kind="gateway"/ { m += $NF }
    /^portcullis_statements_total\{/ { s += $NF }
    END { printf "%d %d\n", m, s }'
}

# Warm-up: both nodes' JIT.
pgbench -n -S -M simple -c "$clients" -j 2 -T "${WARMUP:-30}" -h 127.0.0.1 -p 6491 -U "$pg_user" bench >/dev/null 2>&1
declare -A results
read -r m1 s1 < <(gateway_messages 1)
read -r m2 s2 < <(gateway_messages 2)
for round in $(seq 1 "$rounds"); do
  for target in "direct $pg_port $db" "one 6490 bench" "two 6491 bench"; do
    set -- $target
    tps=$(run "$2" "$3")
    results[$1]+="$tps "
    echo "round $round: $1 $tps tps" >&2
  done
done
read -r m1b s1b < <(gateway_messages 1)
read -r m2b s2b < <(gateway_messages 2)
messages=$(( m1b - m1 + m2b - m2 ))
statements=$(( s1b - s1 + s2b - s2 ))

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
direct=$(echo "${results[direct]}" | median)
one=$(echo "${results[one]}" | median)
two=$(echo "${results[two]}" | median)
printf '%-44s %10s %8s\n' "pgbench -S -M simple -c $clients (median)" "TPS" "ratio"
printf '%-44s %10.0f %8s\n' "direct PostgreSQL" "$direct" "1.00"
printf '%-44s %10.0f %8.2f\n' "HAProxy -> one node, PostgreSQL journal" "$one" "$(echo "$one / $direct" | bc -l)"
printf '%-44s %10.0f %8.2f\n' "HAProxy -> two nodes, PostgreSQL journal" "$two" "$(echo "$two / $direct" | bc -l)"
printf 'two nodes / one node: %.2f\n' "$(echo "$two / $one" | bc -l)"
echo "gateway messages between nodes: $messages for $statements statements"

# Node loss: a client whose node died reconnects through HAProxy.
kill -9 "${pids[1]}"
killed=$(now_ms)
until psql -h 127.0.0.1 -p 6491 -U "$pg_user" -d bench -tAc "SELECT 1" >/dev/null 2>&1; do sleep 0.05; done
echo "node 2 killed: a new connection through HAProxy ran a statement after $(( $(now_ms) - killed )) ms"

# A new node: from its start until it is ready, and until HAProxy gives it a session.
started=$(now_ms)
java ${PORTCULLIS_JAVA_OPTS:--Xmx1g} -jar "$jar" run --config "$work/node3.conf" >"$work/node3.log" 2>&1 &
pids+=($!)
wait_ready 3
ready=$(now_ms)
until grep -q "session .* opened" "$work/node3.log"; do
  psql -h 127.0.0.1 -p 6491 -U "$pg_user" -d bench -tAc "SELECT 1" >/dev/null 2>&1 || true
done
echo "node 3 started: ready after $(( ready - started )) ms, first session through HAProxy after $(( $(now_ms) - started )) ms"
