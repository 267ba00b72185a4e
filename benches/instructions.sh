#!/usr/bin/env bash
# Instructions per message, counted by callgrind, for weir and the peers on the channel
# workloads of src/channel_workloads.rs (driver: benches/instructions.rs).
#
#   bash benches/instructions.sh                      # weir and kanal on seq_large, spsc_bounded1024
#   CHANNELS="weir kanal_on_weir" WORKLOADS="spsc_bounded1" bash benches/instructions.sh
#   FEATURES=weir/usdt CHANNELS=weir bash benches/instructions.sh   # probes compiled in
#
# Each (channel, workload) runs twice, with LOW and HIGH messages; instructions per message are
# (Ir(HIGH) - Ir(LOW)) / (HIGH - LOW), so runtime start-up, channel creation and teardown
# cancel out. Counted over every thread (user space only: what callgrind sees). Runtimes get
# WEIR_BENCH_WORKERS workers, default 1 here, so the count does not depend on how threads
# interleave or spin. Wrap it in the cpu lock on the shared machine: `cpu bash benches/instructions.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."

LOW=${LOW:-100000}
HIGH=${HIGH:-200000}
CHANNELS=${CHANNELS:-"weir kanal kanal_on_weir weir_on_tokio"}
WORKLOADS=${WORKLOADS:-"seq_large spsc_bounded1024"}
export WEIR_BENCH_WORKERS=${WEIR_BENCH_WORKERS:-1}
FEATURES=${FEATURES:-}

command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed" >&2; exit 2; }

exe=$(cargo bench --no-run -p weir-benches --bench instructions ${FEATURES:+--features "$FEATURES"} --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*\/instructions-[^"]*\)".*/\1/p' | tail -1)
[ -x "$exe" ] || { echo "instructions.sh: cannot find the built instructions bench" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Total instructions of one run.
count() {
  valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$exe" "$@" 2>"$tmp/log" >/dev/null || {
    cat "$tmp/log" >&2
    echo "instructions.sh: run failed: $*" >&2
    exit 1
  }
  awk '/Collected :/ { print $NF }' "$tmp/log"
}

echo "instructions per message (callgrind), $WEIR_BENCH_WORKERS worker(s), $LOW and $HIGH messages, features: ${FEATURES:-none}, $(date -u +%FT%TZ)"
echo
echo "| workload | channel | Ir ($LOW msgs) | Ir ($HIGH msgs) | instructions per message |"
echo "|---|---|---:|---:|---:|"
for w in $WORKLOADS; do
  for c in $CHANNELS; do
    lo=$(count "$c" "$w" "$LOW")
    hi=$(count "$c" "$w" "$HIGH")
    per=$(awk -v lo="$lo" -v hi="$hi" -v n=$((HIGH - LOW)) 'BEGIN { printf "%.1f", (hi - lo) / n }')
    echo "| $w | $c | $lo | $hi | $per |"
  done
done
