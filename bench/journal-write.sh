#!/usr/bin/env bash
# The journal alone, without the gateway: SESSIONS session entities in one JVM, each appending a
# statement's three events, waiting until they are durable, then appending the next, into a
# PostgreSQL journal (database portcullis_bench_journal_write, recreated for each run). Reports
# statements/s (3 events each), events per commit and append latency.
# The issue budget: >= 10,000 statements/s.
#
#   bench/journal-write.sh                             # 8 and 64 sessions, 5 s warm-up, 20 s each
#   SESSIONS="8 64 256" DURATION=10 bench/journal-write.sh
#   PLUGIN=jdbc bench/journal-write.sh                 # pekko-persistence-jdbc's plugin, to compare
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
pg_host=${PGHOST:-127.0.0.1}
pg_port=${PGPORT:-5432}
pg_user=${PGUSER:-postgres}
pg_password=${PGPASSWORD:-}
duration=${DURATION:-20}
warm_up=${WARMUP:-5}
sessions=${SESSIONS:-8 64}
plugin=${PLUGIN:-group-commit}
db=portcullis_bench_journal_write
cd "$root"
./mvnw -B -q -Dfmt.skip test-compile dependency:build-classpath -Dmdep.includeScope=test \
  -Dmdep.outputFile=target/classpath.txt -pl persistence -am >/dev/null
classpath="persistence/target/test-classes:persistence/target/classes:$(cat persistence/target/classpath.txt)"
for n in $sessions; do
  psql -q -h "$pg_host" -p "$pg_port" -U "$pg_user" -d postgres \
    -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" -c "CREATE DATABASE $db"
  # shellcheck disable=SC2086
  java ${JAVA_OPTS:--Xmx1g} -cp "$classpath" io.portcullis.persistence.benchmarks.JournalWriteBenchmark \
    "jdbc:postgresql://$pg_host:$pg_port/$db" "$pg_user" "$pg_password" "$n" "$warm_up" "$duration" "$plugin" |
    grep -E '^(group-commit|jdbc-journal) '
done
