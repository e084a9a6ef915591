#!/usr/bin/env bash
# `wrangler deploy --dry-run` of the production environment, offline: runs wrangler.toml's
# [build] (assets + release Wasm), bundles, and writes what it would upload to
# target/wrangler-dry-run without contacting Cloudflare. Prints the raw and gzip size of the
# Worker (the Wasm + its JS glue) and of the static assets, and fails when the Worker exceeds
# the Free plan's 1 MiB gzip (the assets are not part of that limit). First it checks that
# wrangler.toml names every secret the config reads.
set -euo pipefail
source "$(dirname "$0")/versions.sh"
cd "$ROOT_DIR"
# Every secret the config reads (shared/src/config/keys.rs, `k("NAME", true, Need, ...)`) is in
# wrangler.toml's secret list, and each environment's `secrets.required` holds exactly those the
# config refuses to run without in production (Need::Always or Need::Production).
secrets=$(sed -nE 's/^ *k\("([A-Z0-9_]+)", true, .*/\1/p' shared/src/config/keys.rs | sort)
needed=$(sed -nE 's/^ *k\("([A-Z0-9_]+)", true, (Always|Production), .*/\1/p' shared/src/config/keys.rs | sort)
[ -n "$secrets" ] || { echo "no secrets found in shared/src/config/keys.rs" >&2; exit 1; }
listed=$(sed -nE 's/^#   ([A-Z0-9_]+) +(required|optional)( .*)?$/\1/p' wrangler.toml | sort)
if [ "$listed" != "$secrets" ]; then
  echo "wrangler.toml's secret list differs from the config's secrets:" >&2
  diff <(echo "$listed") <(echo "$secrets") >&2 || true
  exit 1
fi
for env in staging production; do
  required=$(sed -n "/^\[env.$env.secrets\]/,/^\[/p" wrangler.toml | sed -nE 's/^required = \[(.*)\]/\1/p' |
    tr -d '" ' | tr ',' '\n' | sort)
  if [ "$required" != "$needed" ]; then
    echo "wrangler.toml [env.$env.secrets] required differs from the config's required secrets:" >&2
    diff <(echo "$required") <(echo "$needed") >&2 || true
    exit 1
  fi
done
echo "wrangler.toml lists the config's $(echo "$secrets" | wc -l) secrets ($(echo "$needed" | wc -l) required per environment)"
# The limit, KiB gzip; overridable only to see this check fail.
LIMIT=$((${WORKER_GZIP_LIMIT_KIB:-1024} * 1024))
OUT=target/wrangler-dry-run
rm -rf "$OUT"
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$HOME/.cargo/bin/wasm-bindgen}"
log=$(npx wrangler deploy --dry-run --outdir "$OUT" --env production 2>&1 | sed 's/\x1b\[[0-9;]*m//g') || {
  printf '%s\n' "$log"
  echo "wrangler deploy --dry-run failed" >&2
  exit 1
}
# Wrangler's own estimate, e.g. "Total Upload: 2300.49 KiB / gzip: 790.14 KiB".
# Its warnings (the experimental `secrets.required`, today) and errors are shown with their details.
printf '%s\n' "$log" | grep -E 'Total Upload|assets directory|--dry-run: exiting|WARNING|ERROR|^ +- ' || true
size() { # <files...>: "<raw> <gzip>" in bytes, gzip -9 of each file
  local raw=0 gz=0 f
  for f in "$@"; do
    raw=$((raw + $(wc -c <"$f")))
    gz=$((gz + $(gzip -9c "$f" | wc -c)))
  done
  echo "$raw $gz"
}
mapfile -t worker < <(find "$OUT" -type f ! -name '*.map' ! -name 'README.md' | sort)
mapfile -t assets < <(find target/worker-assets -type f ! -name '_headers' ! -name '_redirects' | sort)
read -r raw gz <<<"$(size "${worker[@]}")"
read -r araw agz <<<"$(size "${assets[@]}")"
kib() { awk -v b="$1" 'BEGIN { printf "%.1f KiB", b / 1024 }'; }
# Wrangler's estimate counts a little more than gzip -9 of the files: the larger decides.
estimate=$(printf '%s\n' "$log" | sed -nE 's/^Total Upload: .* gzip: ([0-9.]+) KiB$/\1/p')
[ -n "$estimate" ] || { echo "no 'Total Upload' line from wrangler" >&2; exit 1; }
estimate=$(awk -v k="$estimate" 'BEGIN { printf "%d", k * 1024 }')
echo "worker bundle (${#worker[@]} files): $(kib "$raw") raw, $(kib "$gz") gzip -9," \
  "$(kib "$estimate") gzip by wrangler (limit $(kib "$LIMIT") gzip)"
echo "static assets (${#assets[@]} files): $(kib "$araw") raw, $(kib "$agz") gzip -9" \
  "(served by Cloudflare before the Worker, not part of the bundle or its limit)"
((estimate > gz)) && gz=$estimate
if ((gz > LIMIT)); then
  echo "the Worker bundle is over $(kib "$LIMIT") gzip: the Free plan refuses a Worker over 1 MiB" >&2
  exit 1
fi
