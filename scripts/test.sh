#!/usr/bin/env bash
# `make test`: installs what is missing, then runs every check and test: formatting and clippy
# on native + both Wasm targets, unit tests of the core, and the end-to-end suite (release Wasm
# on workerd and wasmtime serve against redis-server, the Upstash/Hrana fronts and anvil,
# including the official JS clients against the fronts).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/versions.sh
step() { printf '\033[1;34m[test]\033[0m %s\n' "$*"; }
step "lint"
scripts/lint.sh
step "build release Wasm and compile the test contracts"
scripts/build-wasm.sh
step "wrangler deploy --dry-run (production): the Worker bundle stays under 1 MiB gzip"
scripts/worker-dry-run.sh
# Once here, so parallel tests never compile the contracts at the same time.
node tests/js/chain/compile.mjs
# The decoding fixture must still be what the contracts emit.
node tests/js/chain/fixtures.mjs --check
# The Stripe signature fixture must still be what Stripe's own library produces.
node tests/js/payments/stripe-fixtures.mjs --check
step "unit and end-to-end tests"
cargo test --quiet
