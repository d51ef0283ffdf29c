#!/usr/bin/env bash
# bench/run.sh — nsbox side by side with util-linux, iproute2 and busybox, in one run, as ratios.
#
#   sudo bench/run.sh [OPTIONS] [CASE...]
#
# Builds our release binaries, installs the references (hyperfine, busybox-static, iproute2, util-linux,
# strace, jq, gcc, musl-tools), measures every case below in this one run and prints one table: our median, the
# reference's median, ratio = ours / reference, the goal, met or missed. A full run writes BENCHMARKS.md
# (table + machine, kernel, versions); a partial or --quick run writes target/bench/BENCHMARKS.partial.md.
#
# CASE: unshare mountproc nsenter lsns netns veth syscalls rss size (default: all, in that order)
# OPTIONS:
#   --quick           few runs and no 10,000-process lsns: a smoke test, not a result
#   --no-install      do not apt-get anything (fail if a tool is missing)
#   --no-build        use the binaries already built
#   --ours DIR        benchmark the binaries in DIR instead of building
#   --profile NAME    cargo profile to build and measure (default: release)
#   --builtin         measure lsns, netns and veth here (bench/helpers/procfarm; hyperfine medians in
#                     interleaved rounds) instead of calling bench/lsns.sh and bench/netns.sh; run.sh also
#                     falls back to this, per size or case, when a script fails
#
# Needs root: it creates namespaces, /run/netns entries, veth pairs and up to 10,000 processes. Everything it
# creates has a unique name and is removed on exit, also on Ctrl-C or SIGTERM (trap below). Nothing here
# runs in `cargo test`, and nothing asserts a time: the table reports, a human judges.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# Run from a private copy: bash reads a script as it goes, so editing (or a git checkout of) bench/run.sh
# during a 10-minute run would otherwise make it execute garbage halfway through.
if [ -z "${NSBOX_BENCH_COPY:-}" ]; then
    mkdir -p target/bench
    cp "$0" target/bench/run.sh.running
    NSBOX_BENCH_COPY=1 NSBOX_BENCH_ROOT=$ROOT exec bash target/bench/run.sh.running "$@"
fi
ROOT=${NSBOX_BENCH_ROOT:-$ROOT}
cd "$ROOT"

quick=0 install=1 build=1 ours_dir="" profile=release builtin=0
cases=()
while [ $# -gt 0 ]; do
    case $1 in
    --quick) quick=1 ;;
    --no-install) install=0 ;;
    --no-build) build=0 ;;
    --ours) ours_dir=$(realpath "$2"); build=0; shift ;;
    --profile) profile=$2; shift ;;
    --builtin | --lsns-builtin) builtin=1 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) cases+=("$1") ;;
    esac
    shift
done
all_cases=(unshare mountproc nsenter lsns netns veth syscalls rss size)
full=0
if [ ${#cases[@]} -eq 0 ]; then
    cases=("${all_cases[@]}")
    [ $quick = 0 ] && full=1
fi
for c in "${cases[@]}"; do
    case " ${all_cases[*]} " in *" $c "*) ;; *) echo "run.sh: unknown case $c (cases: ${all_cases[*]})" >&2; exit 2 ;; esac
done
wants() { case " ${cases[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

if [ "$(id -u)" != 0 ]; then
    echo "run.sh: needs root (namespaces, /run/netns, veth, 10,000 processes)" >&2
    exit 1
fi

OUT=$ROOT/target/bench
mkdir -p "$OUT"
LOG=$OUT/log.txt
: >"$LOG"
say() { printf '%s\n' "$*" >&2; printf '%s\n' "$*" >>"$LOG"; }

# ---------------------------------------------------------------------------------------------------------
# Cleanup: every process, namespace and netns this script creates is recorded here and removed on exit.
farm_pid="" target_pid="" netns_names=()
cleanup() {
    if [ -n "$farm_pid" ]; then
        kill -KILL -- "-$farm_pid" 2>/dev/null || true
        kill -KILL "$farm_pid" 2>/dev/null || true
        wait "$farm_pid" 2>/dev/null || true
        farm_pid=""
    fi
    if [ -n "$target_pid" ]; then
        kill -KILL -- "-$target_pid" 2>/dev/null || true
        kill -KILL "$target_pid" 2>/dev/null || true
        wait "$target_pid" 2>/dev/null || true
        target_pid=""
    fi
    local n
    for n in "${netns_names[@]}"; do
        [ -e "/run/netns/$n" ] && ip netns delete "$n" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# ---------------------------------------------------------------------------------------------------------
# What we compare against.
if [ $install = 1 ]; then
    need=()
    for pkg in hyperfine busybox-static iproute2 util-linux strace jq gcc libc6-dev musl-tools file; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
    done
    if [ ${#need[@]} -gt 0 ]; then
        say "installing: ${need[*]}"
        DEBIAN_FRONTEND=noninteractive apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$LOG"
    fi
fi
for tool in hyperfine busybox ip unshare nsenter lsns strace jq gcc musl-gcc; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool not found (drop --no-install?)" >&2; exit 1; }
done
BUSYBOX=$(command -v busybox)
UL=/usr/bin  # util-linux

# ---------------------------------------------------------------------------------------------------------
# Our binaries: static musl when the musl target is installed (the release artifact, spec multicall.md §4),
# else the gnu target (dynamically linked, as `cargo build --release` makes it).
musl=x86_64-unknown-linux-musl
if [ -z "$ours_dir" ]; then
    installed=$(rustup target list --installed 2>/dev/null || true)
    if grep -qx $musl <<<"$installed"; then
        ours_dir=$ROOT/target/$musl/$profile
        build_cmd=(cargo build --workspace --bins --profile "$profile" --target "$musl")
    else
        ours_dir=$ROOT/target/$profile
        build_cmd=(cargo build --workspace --bins --profile "$profile")
    fi
    if [ $build = 1 ]; then
        say "building: ${build_cmd[*]}"
        "${build_cmd[@]}" 2>>"$LOG" || { echo "run.sh: build failed (see $LOG)" >&2; exit 1; }
        # What a plain `cargo build --release` gives (glibc, dynamically linked), for one informational row.
        if [ "$ours_dir" != "$ROOT/target/$profile" ]; then
            say "building: cargo build -p unshare --bin unshare --profile $profile (the dynamic glibc unshare)"
            cargo build -p unshare --bin unshare --profile "$profile" 2>>"$LOG" || say "  (failed; row skipped)"
        fi
    fi
fi
gnu_unshare=""
if [ "$ours_dir" != "$ROOT/target/$profile" ] && [ -x "$ROOT/target/$profile/unshare" ] &&
    ! file -L "$ROOT/target/$profile/unshare" | grep -Eq 'static-pie linked|statically linked'; then
    gnu_unshare=$ROOT/target/$profile/unshare
fi
for bin in unshare nsenter lsns netns veth nsbox; do
    [ -x "$ours_dir/$bin" ] || { echo "run.sh: $ours_dir/$bin missing" >&2; exit 1; }
done
if file -L "$ours_dir/unshare" | grep -Eq 'static-pie linked|statically linked'; then
    linkage=static
else
    linkage=dynamic
fi

# The C helpers (floor, process farm, peak-RSS wrapper), built with the same linkage as our binaries so
# that the floor is the floor for that linkage.
HB=$OUT/bin
mkdir -p "$HB"
# Linked like ours: a static glibc program starts ~0.2 ms slower than a static musl one (IRELATIVE/ifunc and
# tunables set-up), so a static-musl nsbox is held against a static-musl floor (musl-gcc, from musl-tools).
floor_cc=(gcc -O2 -Wall -Wextra)
floor_kind="dynamic glibc"
if [ $linkage = static ]; then
    if grep -q GLIBC_TUNABLES "$ours_dir/unshare"; then
        floor_cc+=(-static) floor_kind="static glibc"
    else
        floor_cc=(musl-gcc -O2 -Wall -Wextra -static) floor_kind="static musl"
    fi
fi
"${floor_cc[@]}" -o "$HB/floor" bench/floor/floor.c
gcc -O2 -Wall -Wextra -static -o "$HB/procfarm" bench/helpers/procfarm.c
gcc -O2 -Wall -Wextra -static -o "$HB/maxrss" bench/helpers/maxrss.c

# Measure ahead of the rest of the machine (other builds, test suites), the same for ours and the references:
# the timed commands run under SCHED_FIFO priority 1 (`chrt -f 1`; the kernel's RT throttling still leaves
# other work 5 % of that CPU and all of the other one). On a busy 2-core box this took the spread of the
# unshare medians from ±40 % to ±5 %. BENCH_RT=0 runs them at nice -10 instead.
renice -n -10 $$ >/dev/null 2>&1 || true
RT=()
if [ "${BENCH_RT:-1}" != 0 ] && command -v chrt >/dev/null && chrt -f 1 true 2>/dev/null; then
    RT=(chrt -f 1)
fi

# A fixed environment from here on: PATH decides how many failed execve(2) calls an execvp of `true` makes,
# and LANG how many locale files a tool that calls setlocale(3) opens (util-linux, iproute2 do; nsbox not).
rustc_version=$(rustc --version 2>/dev/null || echo unknown)
ORIG_PATH=$PATH
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LANG=${LANG:-C.UTF-8}
unset LC_ALL

# ---------------------------------------------------------------------------------------------------------
# Measuring. One hyperfine call per case so that ours and the references share the machine's state.
if [ $quick = 1 ]; then
    rounds=1 fast_runs=30 fast_warm=3 net_runs=10 veth_runs=5 net_cycles=5 net_rounds=1 lsns_small=5 lsns_mid=2 lsns_big=0
else
    rounds=10 fast_runs=500 fast_warm=30 net_runs=100 veth_runs=30 net_cycles=50 net_rounds=5 lsns_small=30 lsns_mid=9 lsns_big=5
fi

rows=()     # markdown table rows
notes=()    # notes under the table
row() { rows+=("| $1 | $2 | $3 | $4 | $5 | $6 | $7 |"); say "  $1: $2 vs $3 $4 -> $5 ($6: $7)"; }
# thousands 1234567 -> 1,234,567 (C.UTF-8 has no digit grouping for printf's ').
thousands() { echo "$1" | sed -e ':a' -e 's/\([0-9]\)\([0-9]\{3\}\)\($\|,\)/\1,\2\3/; ta'; }
ms() { awk -v s="$1" 'BEGIN { printf "%.2f ms", s * 1000 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { if (r == "n/a") print "n/a"; else if (r + 0 <= g + 0) print "met"; else print "**missed**" }'; }

# check NAME SHELL CMD: run CMD; when it fails three times in a row say so and return 1 (the case reports
# it as not measured). Three, because util-linux's lsns fails now and then when a process exits mid-scan.
check() {
    local name=$1 shell=$2 cmd=$3 err
    for _ in 1 2 3; do
        if [ "$shell" = none ]; then
            # Word splitting is what hyperfine -N does too.
            # shellcheck disable=SC2086
            err=$( { $cmd >/dev/null; } 2>&1 ) && return 0
        else
            err=$(sh -c "$cmd" 2>&1 >/dev/null) && return 0
        fi
    done
    failure[$name]="$(printf '%s' "$err" | head -1 | cut -c1-120)"
    say "  $name failed: ${failure[$name]}"
    return 1
}

declare -A median=() failure=() rss=() calls=()

# hf JSON SHELL WARMUP RUNS PREPARE -- NAME CMD [NAME CMD...]: hyperfine over the commands that pass
# `check`; medians land in median[NAME] (seconds). The runs are split into $rounds rounds (one hyperfine
# call each, every command in every round) and the median is taken over all runs of all rounds: hyperfine
# runs one command's runs back to back, so on a shared machine a burst of load would otherwise fall on
# one command only and bias its ratio.
hf() {
    local json=$1 shell=$2 warm=$3 runs=$4 prepare=$5
    shift 6
    local per=$(((runs + rounds - 1) / rounds)) pre=$(((warm + rounds - 1) / rounds))
    # -i: a run that fails is still a run (util-linux's lsns and processes exiting under it); a command that
    # cannot run at all was caught by `check`.
    local args=(--warmup "$pre" --runs "$per" --style basic -i)
    if [ "$shell" = none ]; then args+=(-N); else args+=(--shell "$shell"); fi
    [ -n "$prepare" ] && args+=(--prepare "$prepare")
    local have=0
    while [ $# -gt 0 ]; do
        unset "median[$1]" "failure[$1]"
        if check "$1" "$shell" "$2"; then
            args+=(-n "$1" "$2")
            have=1
        fi
        shift 2
    done
    [ $have = 1 ] || return 0
    local round files=()
    for round in $(seq "$rounds"); do
        if "${RT[@]}" hyperfine "${args[@]}" --export-json "$json.$round" >>"$LOG" 2>&1; then
            files+=("$json.$round")
        else
            say "  hyperfine failed in round $round (see $LOG)"
        fi
    done
    [ ${#files[@]} -gt 0 ] || return 0
    jq -s '[.[].results[]] | group_by(.command) | map({command: .[0].command, times: (map(.times[]) | sort),
            user: (map(.user) | add / length), system: (map(.system) | add / length)})
        | {results: map(. + {median: (.times | if length % 2 == 1 then .[length / 2 | floor]
                                                else (.[length / 2 - 1] + .[length / 2]) / 2 end)})}' \
        "${files[@]}" >"$json"
    rm -f "${files[@]}"
    local name value
    while IFS=$'\t' read -r name value; do
        median[$name]=$value
    done < <(jq -r '.results[] | [.command, .median] | @tsv' "$json")
}

# compare CASE OURS REF REFLABEL GOAL: one table row from two medians.
compare() {
    local case=$1 ours=$2 ref=$3 label=$4 goal=$5
    if [ -z "${median[$ours]:-}" ]; then
        row "$case" "not measured: ${failure[$ours]:-failed}" "$label" "${median[$ref]:+$(ms "${median[$ref]}")}" "n/a" "≤ $goal" "**missed** (not measured)"
        return
    fi
    if [ -z "${median[$ref]:-}" ]; then
        row "$case" "$(ms "${median[$ours]}")" "$label" "not measured: ${failure[$ref]:-failed}" "n/a" "≤ $goal" "n/a"
        return
    fi
    local r
    r=$(ratio "${median[$ours]}" "${median[$ref]}")
    if [ "$goal" = — ]; then
        row "$case" "$(ms "${median[$ours]}")" "$label" "$(ms "${median[$ref]}")" "$r" "—" "—"
        return
    fi
    row "$case" "$(ms "${median[$ours]}")" "$label" "$(ms "${median[$ref]}")" "$r" "≤ $goal" "$(verdict "$r" "$goal")"
}

O=$ours_dir
started=$(date -u +%s)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- unshare -Ur --pid --fork true ------------------------------------------------------------------------
if wants unshare; then
    say "case unshare"
    hf "$OUT/unshare.json" none $fast_warm $fast_runs "" -- \
        ours "$O/unshare -Ur --pid --fork true" \
        util "$UL/unshare -Ur --pid --fork true" \
        busybox "$BUSYBOX unshare -Ur --pid --fork /usr/bin/true" \
        floor "$HB/floor" \
        multicall "$O/nsbox unshare -Ur --pid --fork true" \
        ${gnu_unshare:+gnu "$gnu_unshare -Ur --pid --fork true"}
    compare '`unshare -Ur --pid --fork true`' ours util "util-linux" 0.6
    compare '`unshare -Ur --pid --fork true`' ours busybox "busybox-static" 1
    compare '`unshare -Ur --pid --fork true`' ours floor "floor ($floor_kind C, bench/floor)" 1.15
    compare '`nsbox unshare -Ur --pid --fork true` (multicall)' multicall util "util-linux" —
    if [ -n "$gnu_unshare" ]; then
        compare '`unshare -Ur --pid --fork true`, glibc dynamic (`cargo build --release`)' gnu util "util-linux" —
        notes+=("The glibc row is what a plain \`cargo build --release\` makes: dynamically linked, it pays the loader (~0.7 ms) on every run. The table's nsbox column is the static musl build.")
    fi
    notes+=("busybox runs \`/usr/bin/true\` by its path: given plain \`true\` it would exec its own built-in applet instead of the program the others run.")
fi

# ---- unshare --user --map-root-user --mount --pid --fork --mount-proc true ------------------------------------
if wants mountproc; then
    say "case mountproc"
    mp_args="--user --map-root-user --mount --pid --fork --mount-proc true"
    hf "$OUT/mountproc.json" none $fast_warm $fast_runs "" -- \
        ours "$O/unshare $mp_args" \
        util "$UL/unshare $mp_args" \
        floor "$HB/floor --mount-proc"
    compare '`unshare --user --map-root-user --mount --pid --fork --mount-proc true`' ours util "util-linux" 0.6
    compare '`unshare --user --map-root-user --mount --pid --fork --mount-proc true`' ours floor "floor ($floor_kind C, \`floor --mount-proc\`)" —
    if [ -n "${median[floor]:-}" ] && [ -n "${median[util]:-}" ]; then
        notes+=("mount-proc: even the floor takes $(ratio "${median[floor]}" "${median[util]}") × util-linux's time here: most of this case is the kernel's (copying and tearing down the mount namespace, mounting proc), which no implementation can skip.")
    fi
fi

# ---- nsenter -t PID -a true ----------------------------------------------------------------------------------
if wants nsenter; then
    say "case nsenter"
    # The target: a sleep in 7 new namespaces (user, mnt, uts, ipc, net, pid, cgroup) made by util-linux,
    # its own process group so that cleanup ends it and its unshare parent together.
    # It runs as `nsbench-pause` (a symlink to sleep), so that someone's `pkill sleep` cannot end it mid-case.
    ln -sf "$(command -v sleep)" "$HB/nsbench-pause"
    setsid "$UL/unshare" --user --map-root-user --mount --uts --ipc --net --pid --cgroup --fork \
        --kill-child "$HB/nsbench-pause" 100000 &
    target_pid=$!
    pid=""
    for _ in $(seq 100); do
        pid=$(cat "/proc/$target_pid/task/$target_pid/children" 2>/dev/null | awk '{ print $1 }')
        [ -n "$pid" ] && [ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
        sleep 0.05
    done
    # The target's exec of sleep must have happened, or nsenter would race it.
    for _ in $(seq 100); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = nsbench-pause ] && break
        sleep 0.05
    done
    # busybox nsenter has neither -a nor -C: it enters the six it knows.
    hf "$OUT/nsenter.json" none $fast_warm $fast_runs "" -- \
        ours "$O/nsenter -t $pid -a true" \
        util "$UL/nsenter -t $pid -a true" \
        busybox "$BUSYBOX nsenter -t $pid -U -m -u -i -n -p /usr/bin/true"
    compare '`nsenter -t PID -a true`' ours util "util-linux" 0.6
    compare '`nsenter -t PID -a true`' ours busybox "busybox-static (\`-U -m -u -i -n -p\`)" 1
    notes+=("nsenter: the target is a \`sleep\` (as \`nsbench-pause\`) in 7 new namespaces (user, mnt, uts, ipc, net, pid, cgroup). busybox's nsenter has no \`-a\` and no \`-C\`, so it is given \`-U -m -u -i -n -p\` (one namespace fewer). The issue's single goal \"≤ 0.6\" is applied to util-linux; against busybox the goal is read as ≤ 1×, as for unshare.")
    kill -KILL -- "-$target_pid" 2>/dev/null || kill -KILL "$target_pid" 2>/dev/null || true
    wait "$target_pid" 2>/dev/null || true
    target_pid=""
fi

# ---- lsns at 100, 2,000 and 10,000 processes, and peak RSS at 2,000 ---------------------------------------------
nprocs() { local p=(/proc/[0-9]*); echo ${#p[@]}; }
# farm_up N: add processes until the machine has about N (never fewer than it has already).
farm_up() {
    local want=$1 have add
    have=$(nprocs)
    add=$((want - have))
    [ $add -lt 0 ] && add=0
    rm -f "$OUT/farm.ready"
    "$HB/procfarm" "$add" "$OUT/farm.ready" &
    farm_pid=$!
    for _ in $(seq 600); do
        [ -e "$OUT/farm.ready" ] && break
        kill -0 "$farm_pid" 2>/dev/null || { echo "run.sh: procfarm failed" >&2; exit 1; }
        sleep 0.1
    done
    [ -e "$OUT/farm.ready" ] || { echo "run.sh: procfarm not ready after 60 s" >&2; exit 1; }
}
farm_down() {
    kill -KILL -- "-$farm_pid" 2>/dev/null || kill -KILL "$farm_pid" 2>/dev/null || true
    wait "$farm_pid" 2>/dev/null || true
    farm_pid=""
    # Wait for the kernel to reap them, so the next count starts from the machine's own processes.
    for _ in $(seq 100); do
        [ "$(nprocs)" -lt 400 ] && break
        sleep 0.1
    done
}

# lsns_rows N COUNT: the rows of one size from median[ours-N], median[util-N], median[ours-J-N], ...
lsns_rows() {
    local n=$1 label goal=100
    label=$(thousands "$2")
    [ "$n" = 2000 ] && goal=0.1
    compare "\`lsns\`, $label processes" "ours-$n" "util-$n" "util-linux" $goal
    compare "\`lsns -J\`, $label processes" "ours-J-$n" "util-J-$n" "util-linux" $goal
}
# rss_row COUNT: peak RSS of ours and util-linux's lsns on the machine as it is now.
rss_row() {
    local who bin r label
    label=$(thousands "$1")
    for who in ours util; do
        bin=$O/lsns
        [ $who = util ] && bin=$UL/lsns
        # Peak RSS is nearly deterministic; the median of 5 hides a stray page-cache effect.
        rss[$who]=$(for _ in 1 2 3 4 5; do "$HB/maxrss" "$bin" || true; done | sort -n | sed -n 3p)
    done
    if [ -n "${rss[ours]}" ] && [ -n "${rss[util]}" ]; then
        r=$(ratio "${rss[ours]}" "${rss[util]}")
        row "peak RSS of \`lsns\`, $label processes" "$(thousands "${rss[ours]}") KiB" "util-linux" "$(thousands "${rss[util]}") KiB" "$r" "≤ 1" "$(verdict "$r" 1)"
    else
        row "peak RSS of \`lsns\`, $label processes" "not measured" "util-linux" "${rss[util]:-not measured}" "n/a" "≤ 1" "**missed** (not measured)"
    fi
}

if wants lsns; then
    say "case lsns"
    sizes=(100 2000 10000)
    [ $lsns_big = 0 ] && sizes=(100 2000)
    declare -A lsns_count=() lsns_how=()
    if [ -x bench/lsns.sh ] && [ $builtin = 0 ]; then
        # The lsns engineer's script makes the processes and times both tools; we only read its table:
        # "TOTAL lsns OURS_MS UTIL_MS …" and "TOTAL lsns -J OURS_MS UTIL_MS …", one size after another.
        say "  bench/lsns.sh ${sizes[*]}"
        OURS=$O/lsns REF=$UL/lsns RUNS_SMALL=$lsns_small RUNS_MID=$lsns_mid RUNS_BIG=$lsns_big \
            "${RT[@]}" bench/lsns.sh "${sizes[@]}" >"$OUT/lsns.txt" 2>>"$LOG" || say "  bench/lsns.sh failed (see $LOG)"
        cat "$OUT/lsns.txt" >>"$LOG"
        # set_ms NAME MS: median[NAME] in seconds; the script prints 0.0 when a measurement failed.
        set_ms() {
            unset "median[$1]"
            awk -v v="$2" 'BEGIN { exit !(v + 0 > 0) }' || return 0
            median[$1]=$(awk -v v="$2" 'BEGIN { print v / 1000 }')
        }
        i=0
        while read -r total _ a b c _; do
            case $total in '' | *[!0-9]*) continue ;; esac
            n=${sizes[$((i / 2))]:-}
            [ -n "$n" ] || break
            i=$((i + 1))
            # A total far from N means the rows are not the size we think (a size failed, or other work
            # started thousands of processes meanwhile): leave that size to the built-in measurement.
            [ "$total" -le $((n * 3 / 2 + 400)) ] || continue
            lsns_count[$n]=$total lsns_how[$n]=script
            if [ "$a" = -J ]; then
                set_ms "ours-J-$n" "$b"
                set_ms "util-J-$n" "$c"
            else
                set_ms "ours-$n" "$a"
                set_ms "util-$n" "$b"
            fi
        done <"$OUT/lsns.txt"
    fi
    # Every size bench/lsns.sh did not deliver (or all of them, with --lsns-builtin) is measured here.
    for n in "${sizes[@]}"; do
        [ -n "${median[ours-$n]:-}" ] && [ -n "${median[ours-J-$n]:-}" ] && [ -n "${median[util-$n]:-}" ] &&
            [ -n "${median[util-J-$n]:-}" ] && continue
        farm_up "$n"
        lsns_count[$n]=$(nprocs) lsns_how[$n]=builtin
        say "  ${lsns_count[$n]} processes (built-in)"
        case $n in 100) runs=$lsns_small warm=3 ;; 2000) runs=$lsns_mid warm=1 ;; *) runs=$lsns_big warm=1 ;; esac
        hf "$OUT/lsns-$n.json" none $warm $runs "" -- \
            "ours-$n" "$O/lsns" \
            "util-$n" "$UL/lsns" \
            "ours-J-$n" "$O/lsns -J" \
            "util-J-$n" "$UL/lsns -J"
        if [ "$n" = 2000 ] && wants rss; then
            rss_row "${lsns_count[$n]}"
            rss_done=1
        fi
        farm_down
    done
    for n in "${sizes[@]}"; do
        lsns_rows "$n" "${lsns_count[$n]:-?}"
    done
    how=" ${lsns_how[*]} "
    case $how in *" script "*)
        notes+=("lsns: the sizes marked \"script\" below were measured by bench/lsns.sh (the lsns engineer's script: N sleeping processes added in four groups of new namespaces, hyperfine **mean** of nsbox and util-linux, warm-up 1, $lsns_small/$lsns_mid/$lsns_big runs); the count is the machine's total." ) ;;
    esac
    case $how in *" builtin "*)
        notes+=("lsns: sizes bench/lsns.sh did not deliver$([ $builtin = 1 ] && echo " (all, --builtin)") were measured with bench/helpers/procfarm: sleeping processes in four groups (the caller's namespaces; new uts+ipc; new net+mnt; new user+uts+net+cgroup) until the machine has the stated count, killed (process group + PR_SET_PDEATHSIG) when the size is done; hyperfine medians over interleaved rounds." ) ;;
    esac
    notes+=("lsns: goals other than at 2,000 processes are informational (shown as ≤ 100). Which sizes came from where: $(for n in "${sizes[@]}"; do printf '%s=%s ' "$n" "${lsns_how[$n]:-none}"; done)")
    if [ $lsns_big != 0 ]; then
        for j in "" "-J-"; do
            a=${median[ours${j:--}10000]:-} b=${median[ours${j:--}2000]:-}
            [ -n "$a" ] && [ -n "$b" ] || continue
            r=$(ratio "$a" "$b")
            row "\`lsns${j:+ -J}\` scaling: 10,000 vs 2,000 processes" "$(ms "$a")" "nsbox at 2,000" "$(ms "$b")" "$r" "≤ 5.5" "$(verdict "$r" 5.5)"
        done
    fi
fi
# The RSS case needs its own farm unless the built-in lsns loop above already measured it at 2,000.
if wants rss && [ -z "${rss_done:-}" ]; then
    say "case rss"
    farm_up 2000
    rss_row "$(nprocs)"
    farm_down
    notes+=("peak RSS: \`ru_maxrss\` of the child (bench/helpers/maxrss), median of 5, with bench/helpers/procfarm topping the machine up to 2,000 processes.")
fi

# ---- netns add; exec true; delete, and the two-namespace veth demo -----------------------------------------------
# The built-in measurements (hyperfine over `sh -c` sequences), used when bench/netns.sh is missing or fails.
netns_builtin() {
    say "case netns (built-in)"
    local x=nsbench$$n
    netns_names+=("$x")
    hf "$OUT/netns.json" sh $fast_warm $net_runs "" -- \
        netns-ours "$O/netns add $x; $O/netns exec $x true; $O/netns delete $x" \
        netns-ip "ip netns add $x; ip netns exec $x true; ip netns delete $x"
    compare "\`netns add X; netns exec X true; netns delete X\`" netns-ours netns-ip "\`ip netns …\` (3)" 0.7
    notes+=("netns (built-in): hyperfine runs each sequence with \`sh -c\` and subtracts the shell's own start-up.")
}
veth_builtin() {
    say "case veth (built-in)"
    local l=nsbench$$l r=nsbench$$r n
    netns_names+=("$l" "$r")
    # Each run starts from nothing: the previous run's namespaces (and with them the pair) are deleted
    # in --prepare, outside the measured time.
    hf "$OUT/veth.json" sh 2 $veth_runs "ip netns delete $l 2>/dev/null; ip netns delete $r 2>/dev/null; true" -- \
        veth-ours "$O/netns add $l; $O/netns add $r; $O/veth add veth0 veth1 --netns $l --peer-netns $r --addr 192.168.0.1/24 --peer-addr 192.168.0.2/24 --up" \
        veth-ip "ip netns add $l; ip netns add $r; ip link add veth0 netns $l type veth peer name veth1 netns $r; ip -n $l addr add 192.168.0.1/24 dev veth0; ip -n $r addr add 192.168.0.2/24 dev veth1; ip -n $l link set veth0 up; ip -n $r link set veth1 up"
    compare "veth demo: 2 netns + pair + addresses + up" veth-ours veth-ip "\`ip\` commands (7)" 0.5
    for n in "$l" "$r"; do ip netns delete "$n" 2>/dev/null || true; done
    notes+=("veth (built-in): hyperfine runs each sequence with \`sh -c\` and subtracts the shell's own start-up; the namespaces' deletion is outside the timed part (--prepare).")
}
if { wants netns || wants veth; } && [ -x bench/netns.sh ] && [ $builtin = 0 ]; then
    # The netns engineer's script (private mount namespace with its own /run, interleaved rounds of
    # CYCLES iterations, median round) prints "NAME… OURS ms IP ms IP/OURSx" per case; we read its numbers.
    say "case netns, veth: bench/netns.sh $net_cycles $net_rounds"
    OURS=$O "${RT[@]}" bench/netns.sh "$net_cycles" "$net_rounds" >"$OUT/netns.txt" 2>>"$LOG" || say "  bench/netns.sh failed (see $LOG)"
    cat "$OUT/netns.txt" >>"$LOG"
    while read -r name o i; do
        median[$name-ours]=$o median[$name-ip]=$i
    done < <(awk '$NF ~ /^[0-9.]+x$/ && $(NF - 1) == "ms" && $(NF - 3) == "ms" {
        print ($1 == "veth" ? "veth" : "netns"), $(NF - 4) / 1000, $(NF - 2) / 1000 }' "$OUT/netns.txt")
    if wants netns; then
        if [ -n "${median[netns-ours]:-}" ] && [ -n "${median[netns-ip]:-}" ]; then
            compare "\`netns add X; netns exec X true; netns delete X\`" netns-ours netns-ip "\`ip netns …\` (3)" 0.7
            notes+=("netns: measured by bench/netns.sh (the netns engineer's script: loops of $net_cycles iterations timed with \`date +%s%N\`, nsbox and iproute2 interleaved, median of $net_rounds rounds, inside a private mount namespace with its own /run).")
        else
            netns_builtin
        fi
    fi
    if wants veth; then
        if [ -n "${median[veth-ours]:-}" ] && [ -n "${median[veth-ip]:-}" ]; then
            compare "veth demo: pair in 2 netns + addresses + up" veth-ours veth-ip "\`ip\` commands (5)" 0.5
            notes+=("veth: measured by bench/netns.sh, as netns; it times only the pair (one \`veth add … --up\` against \`ip link add\` + 2 × \`ip addr add\` + 2 × \`ip link set up\`); the two namespaces are made and deleted around it, untimed.")
        else
            veth_builtin
        fi
    fi
else
    wants netns && netns_builtin
    wants veth && veth_builtin
fi

# ---- syscalls ----------------------------------------------------------------------------------------------------
# strace_count CMD...: syscalls made by CMD and its children (strace -f -c), true's own included.
strace_count() {
    strace -f -c -o "$OUT/strace.txt" "$@" >/dev/null 2>&1 || return 1
    awk '$NF == "total" { print $4 }' "$OUT/strace.txt"
}
if wants syscalls; then
    say "case syscalls"
    calls[true]=$(strace_count /usr/bin/true || echo "")
    calls[ours]=$(strace_count "$O/unshare" -Ur --pid --fork true || echo "")
    calls[util]=$(strace_count "$UL/unshare" -Ur --pid --fork true || echo "")
    calls[busybox]=$(strace_count "$BUSYBOX" unshare -Ur --pid --fork /usr/bin/true || echo "")
    calls[floor]=$(strace_count "$HB/floor" || echo "")
    for ref in util busybox floor; do
        label=util-linux goal="≤ 60 calls"
        case $ref in busybox) label=busybox-static ;; floor) label="floor ($floor_kind C)" ;; esac
        if [ -z "${calls[ours]}" ]; then
            row "syscalls of \`unshare -Ur --pid --fork true\`" "not measured" "$label" "${calls[$ref]}" "n/a" "$goal" "**missed** (not measured)"
            continue
        fi
        v=—
        [ $ref = util ] && v=$(awk -v n="${calls[ours]}" 'BEGIN { print (n <= 60) ? "met" : "**missed**" }')
        [ $ref = util ] || goal="—"
        row "syscalls of \`unshare -Ur --pid --fork true\`" "${calls[ours]}" "$label" "${calls[$ref]:-n/a}" "$(ratio "${calls[ours]}" "${calls[$ref]:-0}")" "$goal" "$v"
    done
    notes+=("syscalls: \`strace -f -c\`, every process counted, including the ${calls[true]:-?} calls \`/usr/bin/true\` itself makes (dynamically linked).")
fi

# ---- sizes -------------------------------------------------------------------------------------------------------
# with_libs FILE...: bytes on disk of the files plus every shared library they load (the dynamic loader
# included), each file counted once.
with_libs() {
    local f
    { for f in "$@"; do echo "$f"; ldd "$f" 2>/dev/null | grep -o '/[^ ]*'; done; } | xargs -r realpath | sort -u |
        xargs -r stat -L -c %s | awk '{ s += $1 } END { print s }'
}
size_report=""
if wants size; then
    say "case size"
    if [ -x bench/size.sh ]; then
        # bench/size.sh belongs to the static build (README "Static builds"); its table goes in verbatim.
        # It builds with cargo (./build-static.sh) unless told not to: give it the caller's PATH back.
        size_args=()
        [ $build = 1 ] || size_args=(--no-build)
        size_report=$(PATH=$ORIG_PATH bench/size.sh "${size_args[@]}" 2>>"$LOG") ||
            size_report="bench/size.sh failed (see target/bench/log.txt)"
    fi
    static=$ROOT/target/static
    bb=$(stat -L -c %s "$BUSYBOX")
    if [ -x "$static/nsbox" ]; then
        s=$(stat -c %s "$static/nsbox")
        v=$(awk -v s="$s" 'BEGIN { print (s <= 1200000) ? "met" : "**missed**" }')
        row "size of the static multicall \`nsbox\` ($(cat "$static/TARGET" 2>/dev/null || echo '?'))" \
            "$(thousands "$s") B" "busybox-static" "$(thousands "$bb") B" "$(ratio "$s" "$bb")" "≤ 1,200,000 B" "$v"
        u=$(with_libs "$(command -v unshare)" "$(command -v nsenter)" "$(command -v lsns)" \
            "$(command -v pivot_root)" "$(command -v switch_root)")
        row "size of \`nsbox\` vs util-linux's 5 tools" "$(thousands "$s") B" "util-linux + libs" "$(thousands "$u") B" "$(ratio "$s" "$u")" "—" "—"
        ipsz=$(with_libs "$(command -v ip)")
        row "size of \`nsbox\` vs iproute2 \`ip\`" "$(thousands "$s") B" "iproute2 + libs" "$(thousands "$ipsz") B" "$(ratio "$s" "$ipsz")" "—" "—"
    else
        row "size of the static multicall \`nsbox\`" "not built (run ./build-static.sh)" "busybox-static" "$(thousands "$bb") B" "n/a" "≤ 1,200,000 B" "**missed** (not measured)"
    fi
fi

# ---------------------------------------------------------------------------------------------------------
# The report.
elapsed=$(($(date -u +%s) - started))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD -- 2>/dev/null || commit="$commit + uncommitted changes"
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
report=$OUT/BENCHMARKS.partial.md
[ $full = 1 ] && report=$ROOT/BENCHMARKS.md
{
    echo "# Benchmarks"
    echo
    echo "Written by \`bench/run.sh\` (README \"Benchmarks\") on $(date -u '+%Y-%m-%d %H:%M UTC'); every number below comes"
    echo "from that one run. Times are hyperfine medians (wall clock); ratio = nsbox / reference, lower is better."
    [ $full = 1 ] || echo "**Partial run** (cases: ${cases[*]}$([ $quick = 1 ] && echo "; --quick"))."
    echo
    echo "| case | nsbox | reference | reference | ratio | goal | result |"
    echo "|---|---|---|---|---|---|---|"
    printf '%s\n' "${rows[@]}"
    echo
    for n in "${notes[@]}"; do echo "- $n"; done
    if [ -n "$size_report" ]; then
        echo
        echo "## Sizes (bench/size.sh)"
        echo
        echo '```'
        echo "$size_report"
        echo '```'
    fi
    if [ -f bench/analysis.md ]; then
        echo
        cat bench/analysis.md
    fi
    echo
    echo "## Machine and versions"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| CPU | $cpu, $(nproc) cores |"
    echo "| memory | $mem |"
    echo "| kernel | $(uname -r) |"
    echo "| OS | $(. /etc/os-release && echo "$PRETTY_NAME") |"
    echo "| nsbox | $commit, profile \`$profile\`, $linkage ($(basename "$(dirname "$ours_dir")")) |"
    echo "| rustc | $rustc_version |"
    echo "| util-linux | $("$UL/unshare" --version | head -1) |"
    echo "| iproute2 | $(ip -V | head -1) |"
    echo "| busybox | $("$BUSYBOX" 2>&1 | head -1 | sed 's/ multi-call binary.*//') (busybox-static) |"
    echo "| hyperfine | $(hyperfine --version) — $fast_runs runs (+$fast_warm warm-up) per fast case, netns $net_runs, veth $veth_runs, lsns $lsns_small/$lsns_mid/$lsns_big |"
    echo "| environment | LANG=$LANG, PATH=$PATH; timed commands under ${RT[*]:-nice -10} |"
    echo "| load average | $load_before before, $load_after after ($elapsed s) |"
} >"$report"

echo
printf '%s\n' "| case | nsbox | reference | reference | ratio | goal | result |" "|---|---|---|---|---|---|---|" "${rows[@]}"
echo
echo "written: $report ($elapsed s)"
