#!/usr/bin/env bash
# Runs every test: builds all binaries, then unit and integration tests (root and rootless cases).
set -euo pipefail
cd "$(dirname "$0")"
cargo build --workspace --bins
cargo test --workspace "$@"
