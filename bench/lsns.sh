#!/usr/bin/env bash
# bench/lsns.sh — our lsns against the installed util-linux lsns, with N extra sleeping processes.
#
#   sudo bench/lsns.sh [N...]          (default: 100 2000 10000)
#
# For each N it starts N `sleep` processes spread over four groups that live in different sets of new
# namespaces (the caller's; uts+ipc; net+mnt; user+uts+net+cgroup — as in the spec's measurement), times
# `lsns` and `lsns -J` of both implementations in the same run (hyperfine if installed, else a loop timed with
# `date +%s%N`), prints the mean times and the ratio ours/util-linux, and at the end the scaling ratio
# ours(10000)/ours(2000). Every process it starts is killed when a size is done, and on exit, Ctrl-C or
# SIGTERM (trap): each group is its own process group, and `unshare --kill-child` takes the sleepers along.
#
# Environment: OURS (default target/release/lsns, built if missing), REF (default /usr/bin/lsns),
# RUNS_SMALL/RUNS_MID/RUNS_BIG (hyperfine runs at 100 / 2,000 / 10,000).
set -euo pipefail
cd "$(dirname "$0")/.."

OURS=${OURS:-target/release/lsns}
REF=${REF:-/usr/bin/lsns}
RUNS_SMALL=${RUNS_SMALL:-30}
RUNS_MID=${RUNS_MID:-10}
RUNS_BIG=${RUNS_BIG:-3}
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(100 2000 10000)

[ "$(id -u)" = 0 ] || { echo "lsns.sh: needs root (it creates namespaces)" >&2; exit 1; }
[ -x "$OURS" ] || cargo build --release -p lsns --bin lsns >&2
OURS=$(realpath "$OURS")

groups_pids=()
cleanup() {
    local g
    for g in "${groups_pids[@]}"; do
        kill -KILL -- "-$g" 2>/dev/null || kill -KILL "$g" 2>/dev/null || true
    done
    for g in "${groups_pids[@]}"; do
        wait "$g" 2>/dev/null || true
    done
    groups_pids=()
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT TERM
# Job control: every background job gets its own process group, so `kill -- -PGID` ends all of it.
set -m

nprocs() { local p=(/proc/[0-9]*); echo ${#p[@]}; }
# div A B: A / B as a decimal (0 when B is 0 or missing).
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print 0; else printf "%.6f\n", a / b }'; }

# spawn N: N sleeping processes in four groups of namespaces; returns when all are running.
spawn() {
    local n=$1 per=$(($1 / 4)) flags i
    local sets=("" "--uts --ipc" "--net --mount" "--user --map-root-user --uts --net --cgroup")
    for i in 0 1 2 3; do
        flags=${sets[$i]}
        local count=$per
        [ $i = 3 ] && count=$((n - 3 * per))
        # shellcheck disable=SC2086
        # The sleepers get fds 0-2 only, like a service or a command started from a clean launcher: fds
        # this script inherited (a CI runner's, a terminal's) are closed first.
        (
            for f in /proc/$BASHPID/fd/*; do
                n=${f##*/}
                [ "$n" -gt 2 ] && eval "exec $n>&-"
            done
            exec unshare $flags --fork --kill-child sh -c \
                'i=0; while [ $i -lt '"$count"' ]; do sleep 100000 & i=$((i + 1)); done; wait'
        ) </dev/null >/dev/null 2>&1 &
        groups_pids+=($!)
    done
    # Each group is `unshare` + `sh` + its sleepers, all in the group's process group (counted there, so
    # other processes coming and going on the machine do not matter).
    local want=$((n + 8)) groups have
    groups=$(IFS=,; echo "${groups_pids[*]}")
    for _ in $(seq 1200); do
        have=$(pgrep -c -g "$groups" || true)
        [ "$have" -ge "$want" ] && return 0
        sleep 0.1
    done
    echo "lsns.sh: only $have of $want processes after 120 s" >&2
    exit 1
}

# measure RUNS CMD...: "WALL_MS CPU_MS", the mean wall time and mean user+system time of CMD in milliseconds
# (CPU time is what a busy machine distorts least; without hyperfine it is not measured and shows as 0).
measure() {
    local runs=$1
    shift
    if command -v hyperfine >/dev/null && command -v jq >/dev/null; then
        local json
        json=$(mktemp)
        hyperfine -N --warmup 1 --runs "$runs" --export-json "$json" --output=null "$*" >/dev/null 2>&1
        jq -r '.results[0] | "\(.mean * 1000) \((.user + .system) * 1000)"' "$json"
        rm -f "$json"
    else
        local start end
        "$@" >/dev/null
        start=$(date +%s%N)
        for _ in $(seq "$runs"); do "$@" >/dev/null; done
        end=$(date +%s%N)
        echo "$(div "$((end - start))" "$((runs * 1000000))") 0"
    fi
}

declare -A ours_ms
printf '%-10s %-9s %12s %12s %8s %12s %12s %8s\n' processes command "nsbox ms" "util ms" ratio \
    "nsbox cpu" "util cpu" "cpu ratio"
for n in "${sizes[@]}"; do
    spawn "$n"
    total=$(nprocs)
    case $n in
    100) runs=$RUNS_SMALL ;;
    2000) runs=$RUNS_MID ;;
    *) runs=$RUNS_BIG ;;
    esac
    for opt in "" "-J"; do
        read -r ours ours_cpu < <(measure "$runs" "$OURS" $opt)
        read -r util util_cpu < <(measure "$runs" "$REF" $opt)
        ours_ms["$n$opt"]=$ours
        printf '%-10s %-9s %12.1f %12.1f %8.3f %12.1f %12.1f %8.3f\n' "$total" "lsns${opt:+ $opt}" \
            "$ours" "$util" "$(div "$ours" "$util")" \
            "$ours_cpu" "$util_cpu" "$(div "$ours_cpu" "$util_cpu")"
    done
    cleanup
    # Let the kernel reap them before the next size is counted.
    for _ in $(seq 100); do
        [ "$(nprocs)" -le "$((total - n))" ] && break
        sleep 0.1
    done
done
if [ -n "${ours_ms[2000]:-}" ] && [ -n "${ours_ms[10000]:-}" ]; then
    for opt in "" "-J"; do
        printf 'scaling lsns%s: 10000 vs 2000 processes = %.2fx (goal <= 5.5)\n' "${opt:+ $opt}" \
            "$(div "${ours_ms[10000$opt]}" "${ours_ms[2000$opt]}")"
    done
fi
