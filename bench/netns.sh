#!/usr/bin/env bash
# bench/netns.sh — our netns and veth against iproute2's `ip`, in the same run, as ratios.
#
#   sudo bench/netns.sh [CYCLES] [ROUNDS]        (default: 50 cycles, 5 rounds)
#
# Two cases, each timed as whole loops (`date +%s%N` around CYCLES iterations, repeated ROUNDS times with the
# two implementations interleaved; the median round counts):
#   cycle  `netns add X; netns exec X true; netns delete X`  vs  the same with `ip netns`
#   veth   one `veth add veth0 veth1 --netns L --peer-netns R --addr … --peer-addr … --up`  vs  the five `ip`
#          commands of spec part C (link add with both ends in place, 2 × addr add, 2 × link set up);
#          the two namespaces are made before and deleted after each timed step (not timed).
# It prints ms per iteration for both and the ratio ip/ours (> 1: we are faster).
#
# Everything runs inside a private mount namespace with a fresh tmpfs on /run (the script re-executes itself
# there), so the /run/netns mount, its entries and the network namespaces (and the veth pairs inside them)
# disappear when the script ends, also on failure or Ctrl-C. No traffic is sent. Needs root.
# Environment: OURS (directory with netns and veth; default target/release, built if missing), IP (default
# /usr/sbin/ip).
set -euo pipefail
cd "$(dirname "$0")/.."

CYCLES=${1:-50}
ROUNDS=${2:-5}
IP=${IP:-/usr/sbin/ip}

[ "$(id -u)" = 0 ] || { echo "netns.sh: needs root (network namespaces, /run/netns, veth)" >&2; exit 1; }

if [ -z "${NSBOX_NETNS_BENCH_INNER:-}" ]; then
    OURS=${OURS:-target/release}
    if [ ! -x "$OURS/netns" ] || [ ! -x "$OURS/veth" ]; then
        cargo build --release -p netns --bins >&2
    fi
    export OURS=$(realpath "$OURS") IP NSBOX_NETNS_BENCH_INNER=1
    exec /usr/bin/unshare --mount --propagation private -- bash "$0" "$@"
fi

# Inside the private mount namespace from here on.
mount -t tmpfs nsbox-netns-bench /run
N=$OURS/netns
V=$OURS/veth
cleanup() { "$N" -all delete 2>/dev/null || true; }
trap cleanup EXIT INT TERM

now() { date +%s%N; }

# median of the arguments
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

cycle_ours() {
    local i t0
    t0=$(now)
    for i in $(seq "$CYCLES"); do
        "$N" add nsbbench; "$N" exec nsbbench true; "$N" delete nsbbench
    done
    echo $(($(now) - t0))
}

cycle_ip() {
    local i t0
    t0=$(now)
    for i in $(seq "$CYCLES"); do
        "$IP" netns add nsbbench; "$IP" netns exec nsbbench true; "$IP" netns delete nsbbench
    done
    echo $(($(now) - t0))
}

# Only the pair creation is timed; the namespaces around it are made and deleted untimed.
veth_ours() {
    local i t0 total=0
    for i in $(seq "$CYCLES"); do
        "$N" add nsbl$i; "$N" add nsbr$i
        t0=$(now)
        "$V" add veth0 veth1 --netns nsbl$i --peer-netns nsbr$i \
            --addr 192.168.0.1/24 --peer-addr 192.168.0.2/24 --up
        total=$((total + $(now) - t0))
        "$N" delete nsbl$i; "$N" delete nsbr$i
    done
    echo $total
}

veth_ip() {
    local i t0 total=0
    for i in $(seq "$CYCLES"); do
        "$N" add nsbl$i; "$N" add nsbr$i
        t0=$(now)
        "$IP" link add veth0 netns nsbl$i type veth peer name veth1 netns nsbr$i
        "$IP" -n nsbl$i addr add 192.168.0.1/24 dev veth0
        "$IP" -n nsbr$i addr add 192.168.0.2/24 dev veth1
        "$IP" -n nsbl$i link set veth0 up
        "$IP" -n nsbr$i link set veth1 up
        total=$((total + $(now) - t0))
        "$N" delete nsbl$i; "$N" delete nsbr$i
    done
    echo $total
}

report() {
    local name=$1 ours=$2 theirs=$3
    awk -v name="$name" -v o="$ours" -v t="$theirs" -v n="$CYCLES" 'BEGIN {
        printf "%-40s %9.2f ms %9.2f ms %7.2fx\n", name, o / n / 1e6, t / n / 1e6, t / o
    }'
}

echo "kernel $(uname -r); $("$IP" -V); $("$N" --version | head -1)"
echo "$CYCLES iterations per round, median of $ROUNDS rounds"
printf '%-40s %12s %12s %8s\n' "case (per iteration)" "nsbox" "iproute2" "ip/ours"

cyc_o=() cyc_i=() veth_o=() veth_i=()
for r in $(seq "$ROUNDS"); do
    cyc_o+=("$(cycle_ours)")
    cyc_i+=("$(cycle_ip)")
    veth_o+=("$(veth_ours)")
    veth_i+=("$(veth_ip)")
done
report "netns add; exec true; delete" "$(median "${cyc_o[@]}")" "$(median "${cyc_i[@]}")"
report "veth demo pair (1 veth vs 5 ip)" "$(median "${veth_o[@]}")" "$(median "${veth_i[@]}")"
