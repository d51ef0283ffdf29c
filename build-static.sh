#!/bin/sh
# Builds fully static binaries: the nsbox multicall and every per-tool binary.
#
#   ./build-static.sh [PROFILE]      (default PROFILE: release-small, the size profile in Cargo.toml)
#   NSBOX_STATIC_TARGET=gnu ./build-static.sh    (force the glibc variant)
#
# The musl target is used when `rustup target list --installed` lists it (the release target: small, and its
# libc never dlopens NSS modules); otherwise glibc with +crt-static. The glibc build passes an explicit --target
# so that RUSTFLAGS reach only the target artifacts, never build scripts or proc-macros (spec multicall.md §4).
# The binaries are copied to target/static/ ; the target and file list are printed.
set -eu
cd "$(dirname "$0")"
profile=${1:-release-small}
musl=x86_64-unknown-linux-musl
gnu=x86_64-unknown-linux-gnu

# NSBOX_STATIC_TARGET=gnu forces the glibc variant (to test the fallback on a machine that has musl).
if [ "${NSBOX_STATIC_TARGET:-}" != gnu ] && command -v rustup >/dev/null &&
    rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
    target=$musl
    flags=""
else
    target=$gnu
    # glibc warns at link time about getpw*/getgr*/dlopen in static programs (the NSS crash, spec §4.1), but
    # rust-lld drops those warnings: link with the system linker and turn linker messages into errors.
    flags="-C target-feature=+crt-static -C linker-features=-lld -D linker-messages"
fi

RUSTFLAGS="${RUSTFLAGS:-} $flags" cargo build --workspace --bins --profile "$profile" --target "$target"

out=target/static
mkdir -p "$out"
built="target/$target/$profile"
for bin in nsbox lsns netns nsenter pivot_root switch_root unshare veth; do
    cp "$built/$bin" "$out/$bin.tmp"
    mv "$out/$bin.tmp" "$out/$bin"
done
echo "$target" > "$out/TARGET"

# A static artifact or nothing: a dynamic one would fail in an empty root much later and far less clearly.
for bin in "$out"/*; do
    case $bin in *TARGET) continue ;; esac
    if ! file -L "$bin" | grep -Eq 'static-pie linked|statically linked'; then
        echo "build-static.sh: $bin is not statically linked:" >&2
        file -L "$bin" >&2
        exit 1
    fi
done
echo "static ($target, profile $profile):"
ls -l "$out" | awk 'NR > 1 && $NF != "TARGET" { printf "  %-12s %9d B\n", $NF, $5 }'
