#!/usr/bin/env bash
# JMH: lexing, the cached analysis and evaluating a 50-rule policy for one OLTP statement (what
# the policy stage pays per statement). Prints JMH sample-time percentiles; the budget is p99 < 50 µs.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
./mvnw -B -q -Dfmt.skip -DskipTests install -pl policy -am >/dev/null
./mvnw -B -q -Dfmt.skip test-compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt -pl policy >/dev/null
classpath="policy/target/test-classes:policy/target/classes:$(cat policy/target/classpath.txt)"
exec java -cp "$classpath" org.openjdk.jmh.Main PolicyEvaluationBenchmark \
  -f 1 -wi 3 -w 5s -i 5 -r 5s "$@"
