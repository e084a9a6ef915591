#!/usr/bin/env bash
# Formatting and clippy (-D warnings) on every crate and on both Wasm targets, so the claim
# "it builds for the edge" cannot rot (axum's CI does the same for wasm32).
set -euo pipefail
source "$(dirname "$0")/versions.sh"
cd "$ROOT_DIR"
cargo fmt --all -- --check
cargo clippy --quiet --all-targets -- -D warnings
cargo clippy --quiet --target wasm32-unknown-unknown -p ot-shared -p ot-functions -p ot-indexer-cron -p ot-cloudflare -- -D warnings
# The Workers build as it really compiles: ot-functions without its embedded pages.
cargo clippy --quiet --target wasm32-unknown-unknown -p ot-cloudflare -- -D warnings
cargo clippy --quiet --target wasm32-wasip2 -p ot-shared -p ot-functions -p ot-indexer-cron -p ot-spin -- -D warnings
