# Sourced by the pgbench scripts: a scratch directory and background processes cleaned up on exit,
# the gateway jar, the bench database, and starting a gateway. Needs `root` set by the caller.
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

jar="$root/node/target/portcullis.jar"
[ -f "$jar" ] || (cd "$root" && ./mvnw -B -q -DskipTests package)

# bench_database HOST PORT USER DATABASE SCALE: creates DATABASE if missing and loads pgbench data.
bench_database() {
  psql -q -h "$1" -p "$2" -U "$3" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$4'" |
    grep -q 1 || psql -q -h "$1" -p "$2" -U "$3" -d postgres -c "CREATE DATABASE $4"
  echo "initialising pgbench scale $5 in $4..." >&2
  pgbench -i -q -s "$5" -h "$1" -p "$2" -U "$3" "$4" >/dev/null 2>&1
}

# wait_port PORT: waits until something listens on 127.0.0.1:PORT.
wait_port() {
  for _ in $(seq 1 120); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.5; done
  echo "port $1 never opened" >&2
  return 1
}

# start_gateway NAME PORT: runs the gateway with $work/NAME.conf, logging to $work/NAME.log, and
# waits for its client port. Each gateway gets a free admin port and, unless NAME.conf names one,
# its own H2 journal, so that several run side by side.
start_gateway() {
  grep -q '^portcullis.journal' "$work/$1.conf" ||
    echo "portcullis.journal.url = \"jdbc:h2:file:$work/$1-journal\"" >> "$work/$1.conf"
  echo "portcullis.admin.port = 0" >> "$work/$1.conf"
  # shellcheck disable=SC2086
  java ${PORTCULLIS_JAVA_OPTS:--Xmx1g} -jar "$jar" run --config "$work/$1.conf" >"$work/$1.log" 2>&1 &
  pids+=($!)
  wait_port "$2"
}
