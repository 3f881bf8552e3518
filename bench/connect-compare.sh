#!/usr/bin/env bash
# Cost of a new connection: pgbench --connect -S over TLS directly to PostgreSQL, and through
# Portcullis with TLS to the client, an OIDC token (from the dev issuer) as the password, and TLS
# to the upstream. Uses the TLS-enabled test cluster that bin/setup-test-postgres creates on
# 127.0.0.1:5433. The budget is: through Portcullis < 3x the direct connection time.
#
#   bench/connect-compare.sh            # 15 s per run
#   DURATION=5 bench/connect-compare.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
duration=${DURATION:-15}
pg_port=5433
gateway_port=${GATEWAY_PORT:-6435}
db=portcullis_bench
# shellcheck source=bench/common.sh
. "$root/bench/common.sh"
bench_database 127.0.0.1 "$pg_port" postgres "$db" 1

tls="$root/node/src/test/resources/tls"
cat > "$work/gateway.conf" <<CONF
portcullis.listener { port = $gateway_port, tls { certificate-file = "$tls/server.pem", private-key-file = "$tls/server.key" } }
pekko.remote.artery.canonical.port = 0
portcullis.client-authentication { mode = oidc, oidc.dev-issuer { enabled = true, key-file = "$work/dev.jwk" } }
portcullis.targets.bench { host = "127.0.0.1", port = $pg_port, database = "$db", user = postgres, tls.mode = require }
CONF
start_gateway gateway "$gateway_port"
token=$(java -jar "$jar" token mint --config "$work/gateway.conf" --sub bench --ttl PT2H 2>/dev/null)

run() { # name port user password
  PGSSLMODE=require PGPASSWORD="$4" pgbench -n -C -S -c 4 -j 2 -T "$duration" \
    -h 127.0.0.1 -p "$2" -U "$3" "$5" 2>&1
}
echo "warming up..." >&2
run portcullis $gateway_port bench "$token" bench >/dev/null
declare -A tps connect
for round in 1 2 3; do
  for target in "direct $pg_port postgres - $db" "portcullis $gateway_port bench $token bench"; do
    read -r name port user password database <<<"$target"
    out=$(run "$name" "$port" "$user" "$password" "$database")
    t=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' <<<"$out" | head -1)
    c=$(sed -n 's/^average connection time = \([0-9.]*\) ms/\1/p' <<<"$out")
    [ -n "$t" ] || { echo "pgbench failed for $name:" >&2; echo "$out" >&2; exit 1; }
    tps[$name]+="$t "; connect[$name]+="$c "
    echo "  round $round: $name: $t tps, connection $c ms" >&2
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
d=$(median <<<"${connect[direct]}"); p=$(median <<<"${connect[portcullis]}")
echo
echo "pgbench --connect -S -c 4, TLS, ${duration}s per run, median of 3 rounds, $(nproc) cores, $(date -u +%F)"
echo
echo "| path | tps (new connection per transaction) | average connection time | ratio |"
echo "|---|---|---|---|"
echo "| direct TLS to PostgreSQL | $(median <<<"${tps[direct]}") | $d ms | 1.00 |"
echo "| Portcullis: TLS + OIDC token, TLS upstream | $(median <<<"${tps[portcullis]}") | $p ms | $(awk -v a="$p" -v b="$d" 'BEGIN { printf "%.2f", a / b }') |"
