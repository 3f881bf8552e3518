#!/usr/bin/env bash
# JMH: the time to verify one RS256 OIDC token with a warm key cache (what each new connection
# pays for identity). Prints JMH's sample-time percentiles; the budget is p99 < 200 µs.
exec "$(dirname "$0")/jmh.sh" TokenVerificationBenchmark "$@"
