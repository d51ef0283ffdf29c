#!/usr/bin/env bash
# bench/size.sh — the size of the static nsbox against the budget and the reference tools, and where it goes.
#
#   bench/size.sh [--no-build] [--compare-opt]
#
#   --no-build      measure target/static/ as it is (else ./build-static.sh builds it first)
#   --compare-opt   also build the multicall with opt-level s and z (the size profile's choice) and print both
#
# Prints: the static multicall and per-tool binaries (target and profile from build-static.sh), the budget
# (1.2 MB = 1,200,000 B on musl; spec multicall.md §4), Debian's busybox-static, util-linux's five tools with
# their shared libraries and iproute2's `ip` with its libraries (each file counted once), then what takes the
# space: the largest crates and symbols of an unstripped build (nm --size-sort), and the ELF sections (size -A).
# Reports only; nothing here fails on a size.
set -euo pipefail
cd "$(dirname "$0")/.."

build=1 compare=0
for arg in "$@"; do
    case $arg in
        --no-build) build=0 ;;
        --compare-opt) compare=1 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "size.sh: unknown argument $arg" >&2; exit 2 ;;
    esac
done

BUDGET=1200000
(( build )) && ./build-static.sh >/dev/null
target=$(cat target/static/TARGET)

bytes() { stat -L -c %s "$1"; }
row() { printf '  %-44s %10s B  %s\n' "$1" "$(printf "%'d" "$2")" "${3:-}"; }

# The files a dynamic program loads: itself and every library ldd resolves (the dynamic loader included).
closure() {
    local f
    for f in "$@"; do
        echo "$f"
        ldd "$f" 2>/dev/null | awk '/=>/ && $3 ~ /^\// { print $3 } /^\t\/.*ld-linux/ { print $1 }'
    done | xargs -r realpath | sort -u
}
sum() { local t=0 f; for f in "$@"; do t=$(( t + $(bytes "$f") )); done; echo $t; }

echo "nsbox static binaries ($target, profile release-small):"
multi=$(bytes target/static/nsbox)
verdict="over the budget"
(( multi <= BUDGET )) && verdict="within the budget"
[[ $target == *musl* ]] || verdict="$verdict (the budget is for musl; this is static glibc)"
row "nsbox (all seven applets)" "$multi" "$verdict of $(printf "%'d" $BUDGET) B"
for t in lsns netns nsenter pivot_root switch_root unshare veth; do
    row "  $t alone" "$(bytes target/static/$t)"
done

echo
echo "references:"
if [[ -x /bin/busybox ]] && file -L /bin/busybox | grep -q 'statically linked'; then
    row "busybox-static ($(/bin/busybox --list | wc -l) applets)" "$(bytes /bin/busybox)"
else
    echo "  busybox-static not installed (apt-get install busybox-static)"
fi
ul=()
for t in /usr/bin/unshare /usr/bin/nsenter /usr/bin/lsns /usr/sbin/pivot_root /usr/sbin/switch_root; do
    [[ -x $t ]] && ul+=("$t")
done
if (( ${#ul[@]} )); then
    mapfile -t files < <(closure "${ul[@]}")
    row "util-linux: ${#ul[@]} tools + libraries (${#files[@]} files)" "$(sum "${files[@]}")"
    for t in "${ul[@]}"; do
        mapfile -t files < <(closure "$t")
        row "  $(basename "$t") + libraries" "$(sum "${files[@]}")" "(binary alone $(printf "%'d" "$(bytes "$t")") B)"
    done
fi
if [[ -x /usr/sbin/ip ]]; then
    mapfile -t files < <(closure /usr/sbin/ip)
    row "iproute2 ip + libraries (${#files[@]} files)" "$(sum "${files[@]}")" "(binary alone $(printf "%'d" "$(bytes /usr/sbin/ip)") B)"
fi

if (( compare )); then
    echo
    echo "opt-level (multicall, $target, LTO, 1 codegen unit, panic=abort, stripped):"
    for level in s z; do
        CARGO_PROFILE_RELEASE_SMALL_OPT_LEVEL=$level cargo build -q --bin nsbox --profile release-small \
            --target "$target" --target-dir target/size-opt-$level ${RUSTFLAGS:+} 2>/dev/null ||
            { echo "  opt-level $level: build failed"; continue; }
        row "opt-level=\"$level\"" "$(bytes target/size-opt-$level/$target/release-small/nsbox)"
    done
fi

echo
echo "where the bytes go (unstripped multicall, same profile):"
CARGO_PROFILE_RELEASE_SMALL_STRIP=false cargo build -q --bin nsbox --profile release-small --target "$target" \
    --target-dir target/size-symbols
unstripped=target/size-symbols/$target/release-small/nsbox
echo "  ELF sections (size -A, the largest):"
size -A "$unstripped" | awk 'NR > 2 && $2 > 4096 { printf "    %-24s %10d B\n", $1, $2 }' | sort -k2 -nr | head -8
echo "  by crate (text+data symbols, nm --size-sort; symbols of generic code count for the crate that defines them):"
nm --size-sort --print-size -t d --demangle "$unstripped" 2>/dev/null |
    awk '{ size = $2 + 0; $1 = $2 = $3 = ""; name = substr($0, 4)
           sub(/^[<&*(]+/, "", name); sub(/^_</, "", name)
           split(name, parts, "::"); crate = parts[1]
           if (crate !~ /^[a-z_][a-z0-9_]*$/) crate = "(C library and other)"
           total[crate] += size }
         END { for (c in total) printf "    %-28s %10d B\n", c, total[c] }' | sort -k2 -nr | head -14
echo "  largest symbols:"
nm --size-sort --print-size -t d --demangle "$unstripped" 2>/dev/null | tail -12 |
    awk '{ size = $2 + 0; $1 = $2 = $3 = ""; printf "    %8d B %s\n", size, substr(substr($0, 4), 1, 100) }' |
    sort -nr
