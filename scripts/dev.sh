#!/usr/bin/env bash
# `make dev`: installs what is missing, builds, and brings up the whole local stack:
# redis-server behind the Upstash REST front, an embedded libSQL file behind the Hrana front
# (migrated, with demo data), anvil, and the API on workerd (`wrangler dev`) and on Spin's
# runtime (`wasmtime serve`). Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
source scripts/versions.sh

: "${API_PORT:=8787}" "${SPIN_PORT:=8788}" "${REDIS_PORT:=6390}" "${UPSTASH_PORT:=8079}" "${HRANA_PORT:=8080}" "${ANVIL_PORT:=8545}"
REDIS_TOKEN=dev-redis-token
LIBSQL_TOKEN=dev-libsql-token
STACK=.stack
mkdir -p "$STACK"
# anvil starts a fresh chain every time, so the database (indexer cursor, projections) starts
# fresh too: a cursor from yesterday's chain would look like a reorg deeper than the window.
rm -f "$STACK"/dev.db "$STACK"/dev.db-*
rm -rf "$STACK/wrangler-state"
log() { printf '\033[1;32m[dev]\033[0m %s\n' "$*"; }

for port in "$API_PORT" "$SPIN_PORT" "$REDIS_PORT" "$UPSTASH_PORT" "$HRANA_PORT" "$ANVIL_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is already in use; stop what runs there or set the *_PORT variables" >&2
    exit 1
  fi
done

log "building the Wasm (Workers bundle + Spin component) and otctl"
scripts/build-wasm.sh
cargo build --quiet -p ot-ops --bin otctl

groups=()
cleanup() {
  for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start() { # name, command...: runs in its own process group, output to .stack/<name>.log
  local name=$1; shift
  setsid "$@" >"$STACK/$name.log" 2>&1 &
  groups+=("$!")
}
wait_port() {
  for _ in $(seq 1 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
  echo "$2 did not start; see $STACK/$2.log" >&2; exit 1
}

start redis redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no
wait_port "$REDIS_PORT" redis
start fronts target/debug/otctl fronts --redis-url "redis://127.0.0.1:$REDIS_PORT" \
  --upstash-port "$UPSTASH_PORT" --upstash-token "$REDIS_TOKEN" \
  --db "$STACK/dev.db" --hrana-port "$HRANA_PORT" --hrana-token "$LIBSQL_TOKEN"
start anvil anvil --host 127.0.0.1 --port "$ANVIL_PORT" --chain-id 31337
wait_port "$UPSTASH_PORT" fronts
wait_port "$HRANA_PORT" fronts
wait_port "$ANVIL_PORT" anvil

LIBSQL_URL="http://127.0.0.1:$HRANA_PORT"
target/debug/otctl migrate --url "$LIBSQL_URL" --auth-token "$LIBSQL_TOKEN"
target/debug/otctl seed-demo --url "$LIBSQL_URL" --auth-token "$LIBSQL_TOKEN"

# The project's contracts on anvil, with a small on-chain story for the indexer to pick up.
log "deploying the contracts to anvil (tests/contracts, compiled with npm solc)"
contracts=$(node tests/js/chain/chain.mjs deploy --rpc "http://127.0.0.1:$ANVIL_PORT")
node tests/js/chain/chain.mjs scenario --rpc "http://127.0.0.1:$ANVIL_PORT" --addresses "$contracts" >/dev/null
contract_list=$(node -e 'const c=JSON.parse(process.argv[1]); console.log([c.ticket,c.market,c.vault].join(","))' "$contracts")
deploy_block=$(node -e 'console.log(JSON.parse(process.argv[1]).deployBlock)' "$contracts")
# Uniswap V2 (the npm packages' Factory, Pair, Router02) with test tokens and pools, and
# Multicall3 at its canonical address, for the swap quotes.
log "deploying Uniswap V2 with demo pools to anvil"
swaps=$(node tests/js/chain/chain.mjs swap-deploy --rpc "http://127.0.0.1:$ANVIL_PORT")
read -r swap_factory swap_bases token_a token_b < <(node -e 'const s=JSON.parse(process.argv[1]);
  console.log(s.factory, s.baseTokens.join(","), s.tokens.A, s.tokens.B)' "$swaps")

declare -A config=(
  [UPSTASH_REDIS_REST_URL]="http://127.0.0.1:$UPSTASH_PORT"
  [UPSTASH_REDIS_REST_TOKEN]="$REDIS_TOKEN"
  [LIBSQL_URL]="$LIBSQL_URL"
  [LIBSQL_AUTH_TOKEN]="$LIBSQL_TOKEN"
  [RPC_URL]="http://127.0.0.1:$ANVIL_PORT"
  [CHAIN_ID]=31337
  [JWT_SECRET]=dev-jwt-secret-not-for-production-0123456789
  [CRON_SECRET]=dev-cron-secret-dev-cron-secret-dev
  [STRIPE_WEBHOOK_SECRET]=whsec_dev_endpoint_secret
  [REDIS_KEY_PREFIX]="ot:"
  [PUBLIC_URL]="http://127.0.0.1:$API_PORT"
  [CORS_ALLOWED_ORIGINS]="http://localhost:5173,http://127.0.0.1:5173"
  # anvil's first account: log in with it to get the admin role.
  [ADMIN_ADDRESSES]=0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266
  [INDEXER_CONTRACTS]="$contract_list"
  [INDEXER_START_BLOCK]="$deploy_block"
  [SWAP_FACTORY]="$swap_factory"
  [SWAP_BASE_TOKENS]="$swap_bases"
)

# The same component on Spin's runtime, configured as Spin would be: every setting is a Spin
# variable (`SPIN_VARIABLE_<KEY>`), read through wasi:config by the adapter plugged in for
# wasmtime serve (see scripts/build-wasm.sh).
env_args=(--env "SPIN_VARIABLE_PUBLIC_URL=http://127.0.0.1:$SPIN_PORT")
for key in "${!config[@]}"; do
  [ "$key" = PUBLIC_URL ] || env_args+=(--env "SPIN_VARIABLE_$key=${config[$key]}")
done
start spin "$WASMTIME" serve -S cli --addr "127.0.0.1:$SPIN_PORT" "${env_args[@]}" target/wasm32-wasip2/release/ot_spin_wasmtime.wasm

# wrangler dev on the bundle just built: a config without [build], so nothing builds twice.
node scripts/worker-assets.mjs >/dev/null
{
  echo 'name = "onlineticket-edge-dev"'
  echo "main = \"$PWD/functions/hosts/cloudflare/build/index.js\""
  echo 'compatibility_date = "2026-04-20"'
  echo '[triggers]'
  echo 'crons = ["* * * * *"]'
  # The scanner's and the live page's files are static assets, as on Workers.
  echo '[assets]'
  echo "directory = \"$PWD/target/worker-assets\""
  echo 'html_handling = "auto-trailing-slash"'
  echo 'not_found_handling = "none"'
  echo '[vars]'
  for key in "${!config[@]}"; do echo "$key = \"${config[$key]}\""; done
} >"$STACK/wrangler.dev.toml"
export CLOUDFLARE_CF_FETCH_ENABLED=false WRANGLER_SEND_METRICS=false
start wrangler wrangler dev --config "$STACK/wrangler.dev.toml" --local --ip 127.0.0.1 --port "$API_PORT" \
  --persist-to "$STACK/wrangler-state" --test-scheduled --show-interactive-dev-session=false
wait_port "$SPIN_PORT" spin
wait_port "$API_PORT" wrangler
# One indexer tick now, so /ready (which checks the indexer's lag) is green from the start.
curl -fsS "http://127.0.0.1:$API_PORT/__scheduled?cron=*+*+*+*+*" >/dev/null || log "first indexer tick failed; see $STACK/wrangler.log"

cat <<EOT

  OnlineTicket Edge is up (logs in $STACK/):
    API on workerd (wrangler dev):  http://127.0.0.1:$API_PORT      try: curl http://127.0.0.1:$API_PORT/ready
    API on Spin (wasmtime serve):   http://127.0.0.1:$SPIN_PORT
    Upstash REST front: http://127.0.0.1:$UPSTASH_PORT   Hrana front: $LIBSQL_URL   anvil: http://127.0.0.1:$ANVIL_PORT
    indexer tick (Workers cron): curl "http://127.0.0.1:$API_PORT/__scheduled?cron=*+*+*+*+*"
      then: curl http://127.0.0.1:$API_PORT/v1/chain/tickets/1   curl http://127.0.0.1:$API_PORT/v1/market/listings
    door scanner: http://127.0.0.1:$API_PORT/scanner/   demo key: otvk_00000000000000d0_demo-door-secret-demo-door-secret-0001
    live seat map of the demo event: http://127.0.0.1:$API_PORT/events/evt_00000000000000000001/live
    swap quote (1 token A for token B, on the demo pools):
      curl "http://127.0.0.1:$API_PORT/v1/swap/quote?tokenIn=$token_a&tokenOut=$token_b&amountIn=1000000000000000000"
  Ctrl-C stops everything.

EOT
wait
