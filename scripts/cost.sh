#!/usr/bin/env bash
# `make cost`: prints what one ticket's whole life costs on the data services, per step, on
# workerd and wasmtime serve (the e2e test `cost::` asserts the same figures as budgets).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh >/dev/null
source scripts/versions.sh
scripts/build-wasm.sh >/dev/null 2>&1
cargo run --quiet -p ot-e2e --bin cost
