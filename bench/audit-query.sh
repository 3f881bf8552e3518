#!/usr/bin/env bash
# The audit read side at scale: a PostgreSQL journal of STATEMENTS recorded statements (real,
# chained, serialized journal events: sessions of 100 statements, each received, decided and
# completed, of USERS users over November 2026) is indexed by `portcullis audit sessions`
# catching up by itself, then `audit sessions --user` is timed (budget: < 1 s) and `audit export`
# streams every statement.
#
#   bench/audit-query.sh                            # 1,000,000 statements
#   STATEMENTS=100000 bench/audit-query.sh          # quicker look
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
statements=${STATEMENTS:-1000000}
users=${USERS:-100}
db=portcullis_bench_audit
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

(cd "$root" && ./mvnw -B -q -Dfmt.skip -pl node -am test-compile dependency:build-classpath \
  -Dmdep.outputFile="$work/cp.txt" -Dmdep.includeScope=test >/dev/null)
cp="$root/node/target/test-classes:$root/node/target/classes:$(cat "$work/cp.txt")"
portcullis() { java -Xmx256m -cp "$cp" io.portcullis.node.cli.PortcullisCommand "$@"; }
seconds() { date +%s.%N; }

psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres \
  -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$db" -f "$root/deploy/sql/journal-postgres.sql" >/dev/null
url="jdbc:postgresql://$pg_host:$pg_port/$db"
cat > "$work/gateway.conf" <<CONF
portcullis.journal { url = "$url", user = "$pg_user", password = "" }
CONF

start=$(seconds)
java -cp "$cp" io.portcullis.node.benchmarks.AuditJournalGenerator generate "$url?user=$pg_user" "$statements" "$users" >&2
echo "journal written in $(printf '%.0f' "$(echo "$(seconds) - $start" | bc -l)") s" >&2
events=$(psql -h "$pg_host" -p "$pg_port" -U "$pg_user" -d "$db" -tAc "SELECT count(*) FROM event_journal")

query=(audit sessions --config "$work/gateway.conf" --user user-7 --since 2026-11-20)
start=$(seconds)
portcullis "${query[@]}" >/dev/null
index_s=$(echo "$(seconds) - $start" | bc -l)
start=$(seconds)
found=$(portcullis "${query[@]}" | tail -n +2 | wc -l)
query_s=$(echo "$(seconds) - $start" | bc -l)
in_process=$(java -cp "$cp" io.portcullis.node.benchmarks.AuditJournalGenerator query "$url?user=$pg_user" user-7 2026-11-20)
start=$(seconds)
lines=$(portcullis audit export --config "$work/gateway.conf" --since 2026-11-01 --format jsonl | wc -l)
export_s=$(echo "$(seconds) - $start" | bc -l)

printf 'journal: %d statements, %d events\n' "$statements" "$events"
printf 'index catch-up (first audit sessions, JVM start included): %.1f s, %.0f events/s\n' "$index_s" "$(echo "$events / $index_s" | bc -l)"
printf 'audit sessions --user user-7 --since 2026-11-20, index current: %.2f s wall (JVM start included), %d sessions\n' "$query_s" "$found"
printf 'the query alone, in process: %s\n' "${in_process#*: }"
printf 'audit export --format jsonl: %d lines in %.1f s, %.0f statements/s\n' "$lines" "$export_s" "$(echo "$lines / $export_s" | bc -l)"
