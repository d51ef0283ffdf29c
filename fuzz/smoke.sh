#!/usr/bin/env bash
# Fuzz smoke run for CI: builds every cargo-fuzz target and runs each for a short while, one at a time
# (one libFuzzer process, so a small CI machine is not swamped). Any crash fails the script; the crashing
# input is left in fuzz/artifacts/<target>/ (see fuzz/README.md for how to turn it into a regression test).
#
#   fuzz/smoke.sh             every target, 15 s each
#   fuzz/smoke.sh 600         every target, 10 minutes each (the documented longer run)
#   fuzz/smoke.sh 60 opts     one target
#
# cargo-fuzz needs nightly features; on a stable toolchain RUSTC_BOOTSTRAP=1 enables them for this build only.
set -euo pipefail
cd "$(dirname "$0")"

seconds="${1:-15}"
shift || true

if ! command -v cargo-fuzz >/dev/null; then
    cargo install --locked cargo-fuzz
fi
export RUSTC_BOOTSTRAP=1

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list)
fi

cargo fuzz build -O
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    seeds=()
    [ -d "seeds/$target" ] && seeds=("seeds/$target")
    echo "fuzz: $target for ${seconds}s"
    start=$(date +%s)
    dict=()
    [ -f "dicts/$target.dict" ] && dict=("-dict=dicts/$target.dict")
    cargo fuzz run -O "$target" "corpus/$target" "${seeds[@]}" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
        2>"corpus/$target.log" ||
        { tail -40 "corpus/$target.log"; echo "fuzz: $target FAILED (input in fuzz/artifacts/$target/)"; exit 1; }
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "corpus/$target.log" | grep -o '[0-9]*$' || echo '?')
    echo "fuzz: $target ok: $runs inputs in $(( $(date +%s) - start ))s, corpus $(ls "corpus/$target" | wc -l)"
done
