#!/usr/bin/env bash
# Runs the rt_multi_threaded benchmark (weir beside tokio) at several worker counts and prints
# one table: mean time per iteration for each runtime and the ratio weir/tokio.
#
# Usage: benches/scaling.sh [WORKERS...]        default: 4 8 16 (meant for a 16-core machine)
#
# Environment:
#   CRITERION_HOME  where criterion keeps its results (default: $CARGO_TARGET_DIR or target,
#                   then /criterion-scaling); each worker count is saved as baseline
#                   "workers-<n>", so runs at different counts never compare against each other.
#   BENCH_ARGS      extra criterion arguments, e.g. "--quick" or a name filter.
#   SKIP_RUN=1      only print the table from results already in CRITERION_HOME.
set -euo pipefail

cd "$(dirname "$0")/.."

if [ "$#" -gt 0 ]; then
    workers=("$@")
else
    workers=(4 8 16)
fi
for w in "${workers[@]}"; do
    case "$w" in
        '' | *[!0-9]* | 0) echo "scaling.sh: worker counts are positive integers, got '$w'" >&2; exit 2 ;;
    esac
done

target="${CARGO_TARGET_DIR:-target}"
export CRITERION_HOME="${CRITERION_HOME:-$target/criterion-scaling}"

# The criterion groups of benches/benches/rt_multi_threaded.rs, in table order.
groups=(
    spawn_many_local
    spawn_many_block_on
    spawn_many_remote_idle
    spawn_many_remote_busy1
    spawn_many_remote_busy2
    ping_pong
    yield_many
    chained_spawn
)

if [ "${SKIP_RUN:-0}" != 1 ]; then
    for w in "${workers[@]}"; do
        echo "== rt_multi_threaded with $w workers" >&2
        # shellcheck disable=SC2086 # BENCH_ARGS is a list of arguments on purpose.
        WEIR_BENCH_WORKERS="$w" cargo bench -p weir-benches --bench rt_multi_threaded -- \
            --save-baseline "workers-$w" ${BENCH_ARGS:-} >&2
    done
fi

# Mean time in nanoseconds from a criterion estimates.json, or "-" when missing.
mean_ns() {
    local file="$1"
    if [ -f "$file" ]; then
        sed -E 's/.*"mean":\{"confidence_interval":\{[^}]*\},"point_estimate":([-0-9.eE+]+).*/\1/' "$file"
    else
        echo "-"
    fi
}

# Nanoseconds in a readable unit.
human() {
    awk -v ns="$1" 'BEGIN {
        if (ns == "-") { print "-"; exit }
        if (ns >= 1e6) printf "%.3f ms\n", ns / 1e6
        else if (ns >= 1e3) printf "%.2f us\n", ns / 1e3
        else printf "%.0f ns\n", ns
    }'
}

ratio() {
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f\n", a / b }'
}

echo
echo "rt_multi_threaded: mean time per iteration (criterion), ratio = weir / tokio (goal <= 0.80)"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(date -u +%Y-%m-%dT%H:%MZ)"
echo
printf '| %-24s | %7s | %12s | %12s | %11s |\n' workload workers weir tokio "weir/tokio"
printf '|%s|%s|%s|%s|%s|\n' "--------------------------" "--------:" "-------------:" "-------------:" "------------:"
for g in "${groups[@]}"; do
    for w in "${workers[@]}"; do
        weir_ns=$(mean_ns "$CRITERION_HOME/$g/weir/workers-$w/estimates.json")
        tokio_ns=$(mean_ns "$CRITERION_HOME/$g/tokio/workers-$w/estimates.json")
        printf '| %-24s | %7s | %12s | %12s | %11s |\n' "$g" "$w" \
            "$(human "$weir_ns")" "$(human "$tokio_ns")" "$(ratio "$weir_ns" "$tokio_ns")"
    done
done
