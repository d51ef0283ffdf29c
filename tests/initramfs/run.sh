#!/bin/sh
# Boots a Debian kernel under QEMU (TCG) with an initramfs holding only Debian's static busybox, our static nsbox,
# veth.ko and /init (tests/initramfs/init.sh), and checks the stage markers /init prints on the serial console.
#
#   tests/initramfs/run.sh                      build what is missing, boot, check the required stages
#   NSBOX_INITRAMFS_STAGES="boot install" ...   require only these stages (default: $DEFAULT_STAGES below)
#   NSBOX_INITRAMFS_TIMEOUT=300 ...             seconds before the VM is killed (default 300)
#
# Needs: qemu-system-x86_64, busybox-static, cpio (or busybox cpio), apt-get download + dpkg -x (the kernel is
# unpacked, never installed), and the static nsbox (built by ./build-static.sh when missing). Root is not needed.
# Work files live in target/initramfs/. Exit status 0 when every required stage printed OK, else 1 with the log.
set -eu
cd "$(dirname "$0")/../.."
here=tests/initramfs
work=target/initramfs
mkdir -p "$work"

# Every stage must pass (NSBOX_INITRAMFS_STAGES narrows the list while a tool is being worked on); stages not
# required still run and are reported.
DEFAULT_STAGES="boot install unshare lsns nsenter veth switch_root"
ALL_STAGES="boot install unshare lsns nsenter veth switch_root"
stages=${NSBOX_INITRAMFS_STAGES:-$DEFAULT_STAGES}
limit=${NSBOX_INITRAMFS_TIMEOUT:-300}

die() {
    echo "initramfs: $*" >&2
    exit 1
}

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"

# --- the static nsbox
nsbox=target/static/nsbox
if [ ! -x "$nsbox" ] || [ -n "${NSBOX_REBUILD:-}" ]; then
    ./build-static.sh >&2
fi
file -L "$nsbox" | grep -Eq 'static-pie linked|statically linked' || die "$nsbox is not static"

# --- the static busybox
busybox=${NSBOX_BUSYBOX:-/bin/busybox}
[ -x "$busybox" ] || die "$busybox is missing (apt-get install busybox-static)"
file -L "$busybox" | grep -q 'statically linked' || die "$busybox is not static (install busybox-static)"

# --- the kernel: the package linux-image-amd64 depends on, unpacked once
kdir=$work/kernel
if [ ! -d "$kdir/boot" ]; then
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    [ -n "$pkg" ] || die "cannot find the kernel package linux-image-amd64 depends on (apt-get update?)"
    rm -rf "$work/deb" "$kdir.tmp"
    mkdir -p "$work/deb"
    (cd "$work/deb" && apt-get download "$pkg" >&2) || die "apt-get download $pkg failed"
    dpkg -x "$work"/deb/*.deb "$kdir.tmp" || die "dpkg -x failed"
    rm -rf "$work/deb"
    mv "$kdir.tmp" "$kdir"
fi
vmlinuz=$(ls "$kdir"/boot/vmlinuz-* | head -n 1)
[ -r "$vmlinuz" ] || die "no vmlinuz in $kdir/boot (is it readable? Debian kernels are mode 0600)"
veth=$(find "$kdir/lib/modules" -name 'veth.ko*' | head -n 1)
[ -n "$veth" ] || die "no veth module in the kernel package"

# --- the initramfs
root=$work/root
rm -rf "$root"
mkdir -p "$root/bin" "$root/lib/modules" "$root/nsbox/bin"
cp "$busybox" "$root/bin/busybox"
for applet in sh mount mkdir cat cp ln chmod ls grep head tr wc readlink sleep kill timeout insmod \
    ping hostname id sync poweroff; do
    ln -s busybox "$root/bin/$applet"
done
cp "$nsbox" "$root/nsbox/nsbox"
case $veth in
    *.xz) xz -dc "$veth" > "$root/lib/modules/veth.ko" ;;
    *.zst) zstd -dc "$veth" > "$root/lib/modules/veth.ko" ;;
    *) cp "$veth" "$root/lib/modules/veth.ko" ;;
esac
cp "$here/init.sh" "$root/init"
chmod 755 "$root/init" "$root/nsbox/nsbox"
if command -v cpio >/dev/null; then
    (cd "$root" && find . | cpio -o -H newc --quiet) > "$work/initramfs.cpio"
else
    (cd "$root" && find . | "$busybox" cpio -o -H newc) > "$work/initramfs.cpio"
fi

# --- boot
log=$work/serial.log
: > "$log"
echo "initramfs: booting $(basename "$vmlinuz") under TCG (limit ${limit}s); required stages: $stages" >&2
set +e
timeout "$limit" qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot \
    -kernel "$vmlinuz" -initrd "$work/initramfs.cpio" \
    -append 'console=ttyS0 panic=1 loglevel=3 rdinit=/init' \
    -nic none -serial "file:$log" -monitor none -display none < /dev/null > /dev/null 2>&1
qemu_rc=$?
set -e
tr -d '\r' < "$log" > "$log.txt"

# --- verdict
failed=""
echo "initramfs: stage results:"
for stage in $ALL_STAGES; do
    # The firmware's escape sequences may precede a marker on its line.
    result=$(sed -n "s/.*NSBOX-STAGE $stage //p" "$log.txt" | head -n 1)
    [ -n "$result" ] || result="(no marker)"
    required=no
    case " $stages " in *" $stage "*) required=yes ;; esac
    printf '  %-12s %-8s required=%s\n' "$stage" "$result" "$required"
    case $result in
        OK) ;;
        *) [ $required = no ] || failed="$failed $stage" ;;
    esac
done
if [ "$qemu_rc" = 124 ]; then
    echo "initramfs: the VM did not power off within ${limit}s" >&2
    failed="$failed (timeout)"
fi
if [ -n "$failed" ]; then
    echo "initramfs: FAILED:$failed — serial log follows" >&2
    cat "$log.txt" >&2
    exit 1
fi
echo "initramfs: all required stages passed"
