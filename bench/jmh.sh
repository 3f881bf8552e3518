#!/usr/bin/env bash
# Runs one of the JMH benchmarks (<module>/src/test/java/.../benchmarks) with the settings
# docs/performance.md records: one fork, 3 × 5 s warm-up, 5 × 5 s measurement.
#   bench/jmh.sh BENCHMARK [JMH options]                 # a policy module benchmark
#   MODULE=node bench/jmh.sh MaskingBenchmark -prof gc   # a node module benchmark
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
benchmark=$1
shift
module=${MODULE:-policy}
./mvnw -B -q -Dfmt.skip -DskipTests install -pl "$module" -am >/dev/null
./mvnw -B -q -Dfmt.skip test-compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt -pl "$module" >/dev/null
classpath="$module/target/test-classes:$module/target/classes:$(cat "$module/target/classpath.txt")"
exec java -cp "$classpath" org.openjdk.jmh.Main "$benchmark" -f 1 -wi 3 -w 5s -i 5 -r 5s "$@"
