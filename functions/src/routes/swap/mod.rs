//! Swap quotes on the configured Uniswap V2 deployment:
//! - `GET /v1/swap/quote`: one quote, exact input or exact output;
//! - `POST /v1/swap/quotes`: up to [`MAX_BATCH`] quotes on reserves read in one `eth_call`;
//! - `GET /v1/swap/pairs`: the reserves of the pairs among some tokens.
//!
//! All three read their pairs through [`crate::swap::reserves`]: one Redis round trip when
//! the cache holds them, plus one RPC round trip when it does not.

mod input;
mod view;

use crate::call::Call;
use crate::extract::json_body;
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
use crate::swap::reserves;
use input::Fields;
use serde_json::{Value, json};
use shared::config::SwapConfig;
use shared::error::Error;
use shared::swap::quote::{self, QuoteError};
use shared::swap::{PairKey, QuoteRequest, SwapError};

/// Quotes per batch at most.
pub const MAX_BATCH: usize = 50;
/// Tokens per pairs request at most (45 pairs).
pub const MAX_PAIR_TOKENS: usize = 10;

/// Dispatches the swap routes.
///
/// # Errors
/// See each handler.
pub async fn dispatch<S: Services>(
    services: &S,
    route: Route,
    call: &Call<'_>,
) -> Result<Response, Error> {
    let swap = services
        .config()
        .swap
        .as_ref()
        .ok_or_else(|| Error::Client {
            status: 503,
            code: "SWAP_DISABLED",
            message: "swap quotes are not configured on this deployment (SWAP_FACTORY)".into(),
        })?;
    match route {
        Route::SwapQuote => get_quote(services, call, swap).await,
        Route::SwapQuotes => post_quotes(services, call, swap).await,
        _ => get_pairs(services, call, swap).await,
    }
}

/// The answer for a quote that cannot be given.
fn quote_error(error: QuoteError) -> Error {
    match error {
        QuoteError::PairNotFound => Error::not_found(
            "PAIR_NOT_FOUND",
            "no pair connects these tokens, directly or through a base token",
        ),
        QuoteError::Swap(SwapError::InsufficientLiquidity) => Error::unprocessable(
            "INSUFFICIENT_LIQUIDITY",
            "the pools hold too little for this amount",
        ),
        QuoteError::Swap(SwapError::AmountTooSmall) => Error::unprocessable(
            "AMOUNT_TOO_SMALL",
            "the amount is too small: the pools would give nothing for it",
        ),
        QuoteError::Swap(SwapError::Overflow) => {
            Error::invalid("amountIn", "the amount overflows the pools' arithmetic")
        }
    }
}

/// `GET /v1/swap/quote?tokenIn=&tokenOut=&amountIn=|amountOut=&slippageBps=`.
///
/// # Errors
/// 400 `VALIDATION_FAILED`; 404 `PAIR_NOT_FOUND`; 422 `INSUFFICIENT_LIQUIDITY` /
/// `AMOUNT_TOO_SMALL`; 429; 503 `RPC_UNAVAILABLE`.
async fn get_quote<S: Services>(
    services: &S,
    call: &Call<'_>,
    swap: &SwapConfig,
) -> Result<Response, Error> {
    let q = &call.query;
    let fields = Fields {
        token_in: q.get("tokenIn"),
        token_out: q.get("tokenOut"),
        amount_in: q.get("amountIn"),
        amount_out: q.get("amountOut"),
        slippage_bps: q.get("slippageBps"),
    };
    let request = input::parse(&fields, "")?;
    let pairs = quote::pairs_needed(&request, &swap.base_tokens);
    let snapshot = reserves::read(services, call, swap, &pairs).await?;
    let best = quote::best(&request, &swap.base_tokens, &snapshot.market).map_err(quote_error)?;
    Ok(Response::json(
        200,
        &view::quote(&request, &best, &snapshot),
    ))
}

/// `POST /v1/swap/quotes` with `{"quotes": [{tokenIn, tokenOut, amountIn|amountOut,
/// slippageBps?}, …]}`: every quote on the same block. An input error fails the batch (400
/// naming `quotes[i].field`); a quote the pools cannot give is that item's `error`.
///
/// # Errors
/// 400 `VALIDATION_FAILED` (also for more than [`MAX_BATCH`] quotes); 429; 503.
async fn post_quotes<S: Services>(
    services: &S,
    call: &Call<'_>,
    swap: &SwapConfig,
) -> Result<Response, Error> {
    let body: Value = json_body(call.request)?;
    let items = body
        .get("quotes")
        .and_then(Value::as_array)
        .ok_or_else(|| {
            Error::invalid("quotes", "an array of 1 to 50 quote requests is required")
        })?;
    if items.is_empty() || items.len() > MAX_BATCH {
        return Err(Error::invalid(
            "quotes",
            format!(
                "must hold 1 to {MAX_BATCH} quote requests, not {}",
                items.len()
            ),
        ));
    }
    let requests = items
        .iter()
        .enumerate()
        .map(|(i, item)| batch_item(item, i))
        .collect::<Result<Vec<_>, _>>()?;
    let mut pairs: Vec<PairKey> = Vec::new();
    for request in &requests {
        for key in quote::pairs_needed(request, &swap.base_tokens) {
            if !pairs.contains(&key) {
                pairs.push(key);
            }
        }
    }
    let snapshot = reserves::read(services, call, swap, &pairs).await?;
    let quotes: Vec<Value> = requests
        .iter()
        .map(
            |request| match quote::best(request, &swap.base_tokens, &snapshot.market) {
                Ok(best) => view::quote(request, &best, &snapshot),
                Err(e) => {
                    let e = quote_error(e);
                    json!({"error_code": e.code(), "message": e.public_message()})
                }
            },
        )
        .collect();
    let mut body = view::provenance(&snapshot);
    body["quotes"] = json!(quotes);
    Ok(Response::json(200, &body))
}

/// One batch item as [`input::parse`] reads it (amounts as decimal strings or JSON integers).
fn batch_item(item: &Value, index: usize) -> Result<QuoteRequest, Error> {
    let prefix = format!("quotes[{index}].");
    if !item.is_object() {
        return Err(Error::invalid(
            format!("quotes[{index}]"),
            "must be an object",
        ));
    }
    let text = |key: &str| -> Result<Option<String>, Error> {
        match item.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            // `-5` and `1.5` stay as written and fail the integer check with the field named.
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(Error::invalid(format!("{prefix}{key}"), "must be a string")),
        }
    };
    let [token_in, token_out, amount_in, amount_out, slippage_bps] = [
        "tokenIn",
        "tokenOut",
        "amountIn",
        "amountOut",
        "slippageBps",
    ]
    .map(text);
    let (token_in, token_out, amount_in, amount_out, slippage_bps) = (
        token_in?,
        token_out?,
        amount_in?,
        amount_out?,
        slippage_bps?,
    );
    let fields = Fields {
        token_in: token_in.as_deref(),
        token_out: token_out.as_deref(),
        amount_in: amount_in.as_deref(),
        amount_out: amount_out.as_deref(),
        slippage_bps: slippage_bps.as_deref(),
    };
    input::parse(&fields, &prefix)
}

/// `GET /v1/swap/pairs?tokens=0x…,0x…`: the pairs among 2 to [`MAX_PAIR_TOKENS`] tokens that
/// exist, with their reserves.
///
/// # Errors
/// 400 `VALIDATION_FAILED` (`tokens`); 429; 503.
async fn get_pairs<S: Services>(
    services: &S,
    call: &Call<'_>,
    swap: &SwapConfig,
) -> Result<Response, Error> {
    let listed: Vec<&str> = call
        .query
        .get("tokens")
        .map(|v| v.split(',').map(str::trim).collect())
        .unwrap_or_default();
    if !(2..=MAX_PAIR_TOKENS).contains(&listed.len()) {
        return Err(Error::invalid(
            "tokens",
            format!("list 2 to {MAX_PAIR_TOKENS} token addresses, comma-separated"),
        ));
    }
    let mut tokens = Vec::with_capacity(listed.len());
    for (i, value) in listed.iter().enumerate() {
        let token = input::token(Some(value), &format!("tokens[{i}]"))?;
        if tokens.contains(&token) {
            return Err(Error::invalid(format!("tokens[{i}]"), "is listed twice"));
        }
        tokens.push(token);
    }
    let mut pairs = Vec::new();
    for (i, a) in tokens.iter().enumerate() {
        pairs.extend(tokens[i + 1..].iter().filter_map(|b| PairKey::new(*a, *b)));
    }
    let snapshot = reserves::read(services, call, swap, &pairs).await?;
    let found: Vec<Value> = pairs
        .iter()
        .filter_map(|key| snapshot.market.get(key).copied().flatten())
        .map(|pool| view::pool(&pool))
        .collect();
    let mut body = view::provenance(&snapshot);
    body["pairs"] = json!(found);
    Ok(Response::json(200, &body))
}
