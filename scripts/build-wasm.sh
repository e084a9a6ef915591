#!/usr/bin/env bash
# Builds the release Wasm for both runtimes: the Workers bundle (worker-build) and the Spin
# component (wasm32-wasip2). Cargo and worker-build skip work that is up to date.
set -euo pipefail
source "$(dirname "$0")/versions.sh"
cd "$ROOT_DIR"
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
(cd functions/hosts/cloudflare && worker-build --release 2>&1 | grep -vE '^\s*$' | tail -n 3)
cargo build --release --target wasm32-wasip2 -p ot-spin
