//! The JSON of quotes and pairs. Amounts and reserves are decimal strings, addresses EIP-55.

use crate::swap::Snapshot;
use alloy_primitives::Address;
use serde_json::{Value, json};
use shared::swap::{Amount, Pool, Quote, QuoteRequest};

fn address(a: &Address) -> String {
    a.to_checksum(None)
}

/// A pair and its reserves.
pub fn pool(pool: &Pool) -> Value {
    json!({
        "pair": address(&pool.address),
        "token0": address(&pool.key.token0),
        "token1": address(&pool.key.token1),
        "reserve0": pool.reserves.reserve0.to_string(),
        "reserve1": pool.reserves.reserve1.to_string(),
    })
}

/// Which block the numbers are from, where they came from and how long they hold.
pub fn provenance(snapshot: &Snapshot) -> Value {
    json!({
        "blockNumber": snapshot.block,
        "source": snapshot.source.as_str(),
        "readAt": snapshot.read_at_ms,
        "validUntil": snapshot.valid_until_ms,
    })
}

/// One quote.
pub fn quote(request: &QuoteRequest, quote: &Quote, snapshot: &Snapshot) -> Value {
    let mut body = json!({
        "kind": match request.amount {
            Amount::ExactIn(_) => "exactIn",
            Amount::ExactOut(_) => "exactOut",
        },
        "tokenIn": address(&request.token_in),
        "tokenOut": address(&request.token_out),
        "amountIn": quote.amount_in().to_string(),
        "amountOut": quote.amount_out().to_string(),
        "slippageBps": request.slippage_bps,
        "path": quote.path.iter().map(address).collect::<Vec<_>>(),
        "amounts": quote.amounts.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "pairs": quote.pools.iter().map(pool).collect::<Vec<_>>(),
        "priceImpactBps": quote.price_impact_bps,
        "feeBps": quote.fee_bps,
    });
    let limit = match request.amount {
        Amount::ExactIn(_) => "minAmountOut",
        Amount::ExactOut(_) => "maxAmountIn",
    };
    body[limit] = json!(quote.limit.to_string());
    if let (Value::Object(map), Value::Object(extra)) = (&mut body, provenance(snapshot)) {
        map.extend(extra);
    }
    body
}
