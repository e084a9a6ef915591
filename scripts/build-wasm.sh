#!/usr/bin/env bash
# Builds the release Wasm for both runtimes: the Workers bundle (worker-build) and the Spin
# component (wasm32-wasip2). Cargo and worker-build skip work that is up to date.
#
# ot_spin.wasm is what Spin runs (spin.toml): it reads configuration through
# wasi:config/store@0.2.0-draft-2024-09-27. `wasmtime serve` offers that interface only as
# 0.2.0-rc.1 (and splits `-S config-var` values at commas), so ot_spin_wasmtime.wasm plugs the
# ot-config-adapter component (the draft, read from SPIN_VARIABLE_* like Spin's environment
# provider) into the unchanged ot_spin.wasm; `make dev`, the e2e tests and the bench run it.
set -euo pipefail
source "$(dirname "$0")/versions.sh"
cd "$ROOT_DIR"
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen"
(cd functions/hosts/cloudflare && worker-build --release 2>&1 | grep -vE '^\s*$' | tail -n 3)
cargo build --release --target wasm32-wasip2 -p ot-spin -p ot-config-adapter
out=target/wasm32-wasip2/release
# Composing takes well under a second: always redo it rather than trust timestamps.
wac plug "$out/ot_spin.wasm" --plug "$out/ot_config_adapter.wasm" -o "$out/ot_spin_wasmtime.wasm.tmp"
mv "$out/ot_spin_wasmtime.wasm.tmp" "$out/ot_spin_wasmtime.wasm"
