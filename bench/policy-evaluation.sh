#!/usr/bin/env bash
# JMH: lexing, the cached analysis and evaluating a 50-rule policy for one OLTP statement (what
# the policy stage pays per statement). Prints JMH sample-time percentiles; the budget is p99 < 50 µs.
exec "$(dirname "$0")/jmh.sh" PolicyEvaluationBenchmark "$@"
