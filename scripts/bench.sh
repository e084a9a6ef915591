#!/usr/bin/env bash
# `make bench`: prints bundle sizes, /health, /ready throughput on workerd and wasmtime serve,
# seat-hold throughput vs /health, the EVALSHA rate of hold.lua and a no-oversell count.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
source scripts/versions.sh
scripts/build-wasm.sh >/dev/null 2>&1
cargo run --quiet --release -p ot-e2e --bin bench -- "$@"
