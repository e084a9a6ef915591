//! Reading a quote request from a query string or a batch item, with the offending field
//! named in every error.

use alloy_primitives::{Address, U256};
use shared::error::Error;
use shared::swap::{Amount, MAX_AMOUNT, QuoteRequest};

/// Slippage tolerance when the client does not say (0.5 %).
pub const DEFAULT_SLIPPAGE_BPS: u32 = 50;
/// The largest slippage tolerance accepted (50 %).
pub const MAX_SLIPPAGE_BPS: u32 = 5_000;

/// The raw fields of one quote request, before checking.
#[derive(Debug, Default)]
pub struct Fields<'a> {
    pub token_in: Option<&'a str>,
    pub token_out: Option<&'a str>,
    pub amount_in: Option<&'a str>,
    pub amount_out: Option<&'a str>,
    pub slippage_bps: Option<&'a str>,
}

/// Checks `fields`; error fields are `prefix` + the field name (`quotes[3].amountIn`).
///
/// # Errors
/// 400 `VALIDATION_FAILED` naming the field.
pub fn parse(fields: &Fields<'_>, prefix: &str) -> Result<QuoteRequest, Error> {
    let name = |field: &str| format!("{prefix}{field}");
    let token_in = token(fields.token_in, &name("tokenIn"))?;
    let token_out = token(fields.token_out, &name("tokenOut"))?;
    if token_in == token_out {
        return Err(Error::invalid(name("tokenOut"), "must differ from tokenIn"));
    }
    let amount = match (fields.amount_in, fields.amount_out) {
        (Some(v), None) => Amount::ExactIn(amount(v, &name("amountIn"))?),
        (None, Some(v)) => Amount::ExactOut(amount(v, &name("amountOut"))?),
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                name("amountOut"),
                "give amountIn (exact input) or amountOut (exact output), not both",
            ));
        }
        (None, None) => {
            return Err(Error::invalid(
                name("amountIn"),
                "give amountIn (exact input) or amountOut (exact output)",
            ));
        }
    };
    let slippage_bps = match fields.slippage_bps {
        None => DEFAULT_SLIPPAGE_BPS,
        Some(v) => Some(v)
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<u32>().ok())
            .filter(|bps| *bps <= MAX_SLIPPAGE_BPS)
            .ok_or_else(|| {
                Error::invalid(
                    name("slippageBps"),
                    format!("must be an integer from 0 to {MAX_SLIPPAGE_BPS} basis points"),
                )
            })?,
    };
    Ok(QuoteRequest {
        token_in,
        token_out,
        amount,
        slippage_bps,
    })
}

/// A token address (`0x` and 40 hex digits, any case).
///
/// # Errors
/// 400 `VALIDATION_FAILED` naming `field`.
pub fn token(value: Option<&str>, field: &str) -> Result<Address, Error> {
    let value = value.ok_or_else(|| Error::invalid(field, "a token address is required"))?;
    if value.len() != 42 || !value.starts_with("0x") {
        return Err(Error::invalid(
            field,
            "must be a 0x-prefixed 20-byte address",
        ));
    }
    value
        .parse()
        .map_err(|_| Error::invalid(field, "must be a 0x-prefixed 20-byte address"))
}

/// A positive decimal integer of at most 2^112 − 1 (the most a pair can hold).
fn amount(value: &str, field: &str) -> Result<U256, Error> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid(
            field,
            "must be a positive integer in the token's smallest unit, as a decimal string",
        ));
    }
    let parsed = U256::from_str_radix(value, 10)
        .ok()
        .filter(|a| *a <= MAX_AMOUNT);
    match parsed {
        Some(a) if a.is_zero() => Err(Error::invalid(field, "must be greater than 0")),
        Some(a) => Ok(a),
        None => Err(Error::invalid(
            field,
            "must be at most 2^112 - 1, the most a Uniswap V2 pair can hold",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
    const B: &str = "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512";

    fn field_of(fields: Fields<'_>) -> String {
        match parse(&fields, "q.") {
            Err(Error::Invalid { field, .. }) => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    fn base<'a>() -> Fields<'a> {
        Fields {
            token_in: Some(A),
            token_out: Some(B),
            amount_in: Some("10"),
            ..Fields::default()
        }
    }

    #[test]
    fn good_requests_parse_with_the_default_slippage() {
        let request = parse(&base(), "").expect("valid");
        assert_eq!(request.amount, Amount::ExactIn(U256::from(10)));
        assert_eq!(request.slippage_bps, DEFAULT_SLIPPAGE_BPS);
        let out = Fields {
            amount_in: None,
            amount_out: Some("7"),
            slippage_bps: Some("5000"),
            ..base()
        };
        assert_eq!(
            parse(&out, "").expect("valid").amount,
            Amount::ExactOut(U256::from(7))
        );
    }

    #[test]
    fn bad_fields_are_named() {
        assert_eq!(
            field_of(Fields {
                token_in: Some("0x12"),
                ..base()
            }),
            "q.tokenIn"
        );
        assert_eq!(
            field_of(Fields {
                token_out: Some(&A.to_lowercase()),
                ..base()
            }),
            "q.tokenOut"
        );
        for bad in [
            "0",
            "-5",
            "1.5",
            "1e18",
            " 1",
            "5192296858534827628530496329220096",
        ] {
            assert_eq!(
                field_of(Fields {
                    amount_in: Some(bad),
                    ..base()
                }),
                "q.amountIn",
                "{bad}"
            );
        }
        // 2^112 - 1 is the largest accepted.
        assert!(
            parse(
                &Fields {
                    amount_in: Some("5192296858534827628530496329220095"),
                    ..base()
                },
                ""
            )
            .is_ok()
        );
        assert_eq!(
            field_of(Fields {
                amount_out: Some("1"),
                ..base()
            }),
            "q.amountOut"
        );
        assert_eq!(
            field_of(Fields {
                amount_in: None,
                ..base()
            }),
            "q.amountIn"
        );
        for bad in ["5001", "-1", "x", "+5", "1.0"] {
            assert_eq!(
                field_of(Fields {
                    slippage_bps: Some(bad),
                    ..base()
                }),
                "q.slippageBps"
            );
        }
    }
}
