#!/usr/bin/env bash
# HTTP/1.1 keep-alive "Hello, world!" served by the same hyper service on weir and on tokio,
# with the same worker count, each loaded in turn by wrk from a second process on 127.0.0.1.
# Prints requests/s and P99 latency side by side.
#
#   benches/http/run.sh                       # 10 s, 64 connections, 2 workers, 2 wrk threads
#   DURATION=30 CONNS=64 WORKERS=8 WRK_THREADS=4 \
#     SERVER_CPUS=0-7 LOAD_CPUS=8-15 benches/http/run.sh   # a 16-core machine, pinned
#
# Knobs (environment): DURATION (s), CONNS, WORKERS, WRK_THREADS, WARMUP (s, default 2),
# ROUNDS (alternating weir/tokio runs, default 1), SERVER_CPUS / LOAD_CPUS (taskset lists;
# unset: no pinning). Installs wrk with apt-get when it is missing. Loopback only; every run
# is bounded by DURATION and the servers are stopped at the end.
set -euo pipefail

DURATION=${DURATION:-10}
CONNS=${CONNS:-64}
WORKERS=${WORKERS:-2}
WRK_THREADS=${WRK_THREADS:-2}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-1}
SERVER_CPUS=${SERVER_CPUS:-}
LOAD_CPUS=${LOAD_CPUS:-}

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

if ! command -v wrk >/dev/null 2>&1; then
  echo "wrk is missing: installing it from the distribution's packages" >&2
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  $sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

target="${CARGO_TARGET_DIR:-$here/target}"
echo "building both servers (release) into $target" >&2
CARGO_TARGET_DIR="$target" cargo build --release --quiet --bins
bin="$target/release"

pin() { # pin CPUS cmd...
  local cpus=$1
  shift
  if [ -n "$cpus" ]; then taskset -c "$cpus" "$@"; else "$@"; fi
}

server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
trap cleanup EXIT

wait_for_port() { # port
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "server did not start listening on port $1" >&2
  return 1
}

mkdir -p results
# run NAME BINARY PORT: one measured run; sets RPS and P99.
run() {
  local name=$1 exe=$2 port=$3
  # Started directly (not through a function) so that $! is the server itself.
  if [ -n "$SERVER_CPUS" ]; then
    taskset -c "$SERVER_CPUS" "$exe" --addr "127.0.0.1:$port" --workers "$WORKERS" \
      >"results/$name.server.log" 2>&1 &
  else
    "$exe" --addr "127.0.0.1:$port" --workers "$WORKERS" >"results/$name.server.log" 2>&1 &
  fi
  server_pid=$!
  wait_for_port "$port"
  if [ "$WARMUP" -gt 0 ]; then
    pin "$LOAD_CPUS" wrk -t"$WRK_THREADS" -c"$CONNS" -d"${WARMUP}s" "http://127.0.0.1:$port/" >/dev/null
  fi
  pin "$LOAD_CPUS" wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --latency \
    "http://127.0.0.1:$port/" >"results/$name.wrk.txt"
  cleanup
  local errors
  RPS=$(awk '/^Requests\/sec:/ {print $2}' "results/$name.wrk.txt")
  P99=$(awk '$1 == "99%" {print $2}' "results/$name.wrk.txt")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "results/$name.wrk.txt" | tr '\n' ' ')
  if [ -n "$errors" ]; then echo "$name: wrk reported: $errors" >&2; fi
}

printf 'HTTP/1.1 keep-alive hello: %ss, %s connections, %s workers, wrk -t%s, cpus server=[%s] load=[%s], %s cores\n' \
  "$DURATION" "$CONNS" "$WORKERS" "$WRK_THREADS" "${SERVER_CPUS:-any}" "${LOAD_CPUS:-any}" "$(nproc)"
printf '%-6s %-8s %14s %12s\n' round runtime "requests/s" "P99"
for round in $(seq 1 "$ROUNDS"); do
  # Alternate the order between rounds so that neither side always runs on a warmer machine.
  if [ $((round % 2)) -eq 1 ]; then order="weir tokio"; else order="tokio weir"; fi
  for rt in $order; do
    if [ "$rt" = weir ]; then
      run "weir-$round" "$bin/weir-hello" 3080
    else
      run "tokio-$round" "$bin/tokio-hello" 3081
    fi
    printf '%-6s %-8s %14s %12s\n' "$round" "$rt" "$RPS" "$P99"
  done
done
echo "raw wrk output: $here/results/" >&2
