#!/usr/bin/env bash
# Runs every test: builds all binaries, then unit and integration tests (root and rootless cases).
set -euo pipefail
cd "$(dirname "$0")"
cargo build --workspace --bins
# The static multicall for the empty-root test (tests/it/ship.rs); musl when installed, else static glibc.
./build-static.sh >/dev/null
cargo test --workspace "$@"
