#!/bin/sh
# /init of the nsbox test initramfs (tests/initramfs/run.sh). Runs as PID 1 under busybox sh.
#
# Each stage prints `NSBOX-STAGE <name> OK` or `NSBOX-STAGE <name> FAIL <why>` on the console; run.sh decides
# which stages must pass. Namespace work uses only nsbox applets; busybox supplies the shell, mount, insmod,
# ping, timeout and poweroff. Every stage command runs under `timeout` so a hanging tool fails its stage instead
# of the boot.

export PATH=/nsbox/bin:/bin
T=30
# Debian's busybox sh prefers its own applets (unshare, nsenter, switch_root, ...) over PATH: call ours by path.
B=/nsbox/bin

/bin/busybox mkdir -p /proc /sys /dev /run /tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp

ok() { echo "NSBOX-STAGE $1 OK"; }
fail() {
    stage=$1
    shift
    echo "NSBOX-STAGE $stage FAIL $*"
}
# `check STAGE CONDITION...`: OK when the command succeeds, else FAIL with its output (already shown).
check() {
    stage=$1
    shift
    if "$@"; then ok "$stage"; else fail "$stage" "command failed: $*"; fi
}
ns() { readlink "/proc/$1/ns/$2"; }

echo
echo "NSBOX-STAGE boot OK"

# --- install: the applet links, made while /proc is mounted (the link target comes from /proc/self/exe).
stage_install() {
    timeout $T /nsbox/nsbox --install -s /nsbox/bin || return 1
    for a in lsns netns nsenter pivot_root switch_root unshare veth; do
        [ -L "/nsbox/bin/$a" ] || { echo "missing /nsbox/bin/$a"; return 1; }
    done
    [ "$(readlink /nsbox/bin/unshare)" = /nsbox/nsbox ] || { echo "bad link target"; return 1; }
    $B/unshare --version | grep -q '^unshare from nsbox'
}
check install stage_install

# --- unshare: user (root mapped), pid, mount (+/proc), net, uts, time with offsets; checked from inside.
stage_unshare() {
    outer_user=$(ns self user) outer_mnt=$(ns self mnt) outer_net=$(ns self net)
    outer_uts=$(ns self uts) outer_pid=$(ns self pid) outer_time=$(ns self time)
    export outer_user outer_mnt outer_net outer_uts outer_pid outer_time
    timeout $T $B/unshare --user --map-root-user --pid --fork --mount-proc --net --uts \
        --time --monotonic 1000000 --boottime 2000000 \
        sh -c '
            set -e
            for t in user mnt net uts pid time; do
                eval outer=\$outer_$t
                [ "$(readlink /proc/self/ns/$t)" != "$outer" ] || { echo "same $t ns"; exit 1; }
            done
            [ "$$" = 1 ] || { echo "not pid 1: $$"; exit 1; }
            read -r a b c < /proc/self/uid_map
            [ "$a $b $c" = "0 0 1" ] || { echo "uid_map: $a $b $c"; exit 1; }
            [ "$(id -u)" = 0 ] || { echo "not uid 0"; exit 1; }
            hostname nsbox-inner
            [ "$(hostname)" = nsbox-inner ]
            read -r up rest < /proc/uptime
            [ "${up%%.*}" -ge 2000000 ] || { echo "boottime offset missing: uptime $up"; exit 1; }
            ls /proc | grep -qx 1
            [ "$(ls -d /proc/[0-9]* | wc -l)" -le 5 ] || { echo "foreign pids visible"; exit 1; }
        ' || return 1
    [ "$(hostname)" != nsbox-inner ] || { echo "hostname leaked"; return 1; }
}
check unshare stage_unshare

# A process holding new uts+net namespaces for lsns and nsenter.
$B/unshare --uts --net sh -c 'hostname nsbox-held; exec sleep 600' &
held=$!
sleep 1

# --- lsns: JSON listing that shows the held process's uts namespace.
stage_lsns() {
    out=$(timeout $T $B/lsns -J) || return 1
    echo "$out" | head -c 2000
    echo "$out" | grep -q '"namespaces"' || { echo "no namespaces key"; return 1; }
    echo "$out" | grep -q '"type": *"uts"' || { echo "no uts entry"; return 1; }
    uts=$(readlink /proc/$held/ns/uts | tr -dc 0-9)
    echo "$out" | grep -q "\"ns\": *$uts" || { echo "held uts ns $uts not listed"; return 1; }
}
check lsns stage_lsns

# --- nsenter: join the held process's uts and net namespaces.
stage_nsenter() {
    name=$(timeout $T $B/nsenter -t "$held" --uts hostname) || return 1
    [ "$name" = nsbox-held ] || { echo "hostname in target: $name"; return 1; }
    [ "$(timeout $T $B/nsenter -t "$held" --uts --net readlink /proc/self/ns/net)" = "$(readlink /proc/$held/ns/net)" ]
}
check nsenter stage_nsenter
kill "$held" 2>/dev/null

# --- netns + veth: two named netns joined by a veth pair, addressed and up, then a ping across.
stage_veth() {
    insmod /lib/modules/veth.ko || return 1
    timeout $T $B/netns add left || return 1
    timeout $T $B/netns add right || return 1
    timeout $T $B/netns list | grep -q '^left' || { echo "left not listed"; return 1; }
    timeout $T $B/veth add veth0 veth1 --netns left --peer-netns right \
        --addr 10.99.0.1/24 --peer-addr 10.99.0.2/24 --up || return 1
    timeout $T $B/netns exec left ping -c 1 -W 5 10.99.0.2 || return 1
    timeout $T $B/netns delete left && timeout $T $B/netns delete right
}
check veth stage_veth

# --- switch_root into a tmpfs whose init prints the last marker and powers off.
mkdir -p /newroot
mount -t tmpfs -o size=16m tmpfs /newroot
mkdir -p /newroot/bin /newroot/sbin /newroot/proc /newroot/sys /newroot/dev /newroot/run /newroot/tmp
cp /bin/busybox /newroot/bin/busybox
for a in sh echo poweroff sync; do ln -s busybox "/newroot/bin/$a"; done
cat > /newroot/sbin/init <<'EOF'
#!/bin/sh
[ "$$" = 1 ] && [ -d /proc/self ] && [ -d /sys/class ] && echo "NSBOX-STAGE switch_root OK" ||
    echo "NSBOX-STAGE switch_root FAIL pid $$ or /proc, /sys not moved"
echo "NSBOX-DONE"
sync
poweroff -f
EOF
chmod 755 /newroot/sbin/init

echo "NSBOX-SWITCHING"
if [ -x /nsbox/bin/switch_root ] && $B/switch_root --version >/dev/null 2>&1 && [ -z "${NSBOX_NO_SWITCH:-}" ]; then
    # Leaves PID 1 to switch_root; if it fails, init exits and the kernel panics (run.sh sees no marker).
    exec $B/switch_root /newroot /sbin/init
fi
echo "NSBOX-STAGE switch_root FAIL switch_root not usable"
echo "NSBOX-DONE"
poweroff -f
