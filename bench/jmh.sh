#!/usr/bin/env bash
# Runs one of the policy module's JMH benchmarks (policy/src/test/java/.../benchmarks) with the
# settings docs/performance.md records: one fork, 3 × 5 s warm-up, 5 × 5 s measurement.
#   bench/jmh.sh BENCHMARK [JMH options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
benchmark=$1
shift
./mvnw -B -q -Dfmt.skip -DskipTests install -pl policy -am >/dev/null
./mvnw -B -q -Dfmt.skip test-compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt -pl policy >/dev/null
classpath="policy/target/test-classes:policy/target/classes:$(cat policy/target/classpath.txt)"
exec java -cp "$classpath" org.openjdk.jmh.Main "$benchmark" -f 1 -wi 3 -w 5s -i 5 -r 5s "$@"
