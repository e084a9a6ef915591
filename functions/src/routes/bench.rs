//! `POST /internal/bench/crypto`: runs the login and door crypto `n` times inside the Wasm build, so the
//! benchmark can time it from outside (`n` vs `0` iterations; in-Worker clocks do not advance
//! during pure computation). Enabled only with `BENCH_ROUTES=1`; 404 otherwise.

use crate::call::Call;
use crate::extract::{json_body, jwt_codec};
use crate::http::Response;
use crate::services::Services;
use serde::Deserialize;
use serde_json::json;
use shared::auth::signature::recover_personal_sign;
use shared::auth::siwe::SiweMessage;
use shared::checkin::pass::Pass;
use shared::domain::Role;
use shared::error::Error;
use shared::ports::Clock;

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct BenchBody {
    /// `siwe` (parse + recover a signed SIWE message), `jwt` (verify an access token),
    /// `qr_hmac` (verify an online ticket code) or `pass_ed25519` (verify an offline pass).
    kind: String,
    iterations: u32,
    #[serde(default)]
    message: String,
    #[serde(default)]
    signature: String,
}

/// Runs the requested work and reports how many iterations succeeded.
///
/// # Errors
/// 404 when bench routes are disabled; 400 for a bad body.
pub async fn post_crypto<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    if !services.config().bench_routes {
        return Err(Error::not_found(
            "ROUTE_NOT_FOUND",
            format!("no route for {}", call.request.path),
        ));
    }
    let body: BenchBody = json_body(call.request)?;
    if body.iterations > 10_000 {
        return Err(Error::invalid("iterations", "at most 10000"));
    }
    let mut ok = 0u32;
    match body.kind.as_str() {
        "siwe" => {
            for _ in 0..body.iterations {
                let valid = SiweMessage::parse(&body.message).ok().and_then(|m| {
                    recover_personal_sign(&body.message, &body.signature)
                        .ok()
                        .map(|s| s == m.address)
                });
                ok += u32::from(valid == Some(true));
            }
        }
        "jwt" => {
            let codec = jwt_codec(services);
            let now = services.clock().now_ms() as i64;
            let wallet =
                shared::domain::WalletAddress::parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
                    .map_err(Error::Internal)?;
            let token = codec
                .issue(&wallet, Role::User, "bench", "bench", now)
                .map_err(|e| Error::Internal(e.to_string()))?;
            for _ in 0..body.iterations {
                ok += u32::from(codec.verify(&token, now).is_ok());
            }
        }
        "qr_hmac" => {
            // One online code, verified as the door does (parse + HMAC-SHA256 + expiry).
            let keyring = &services.config().checkin.qr_keyring;
            let now_secs = services.clock().now_ms() / 1000;
            let code = keyring.sign("tkt_00112233445566778899", "00112233aabb", now_secs + 60);
            for _ in 0..body.iterations {
                ok += u32::from(keyring.verify(&code, now_secs).is_ok());
            }
        }
        "pass_ed25519" => {
            // One offline pass, verified with the event's public key (parse + Ed25519 strict).
            let keys = &services.config().checkin.pass_keys;
            let pass = Pass {
                key_generation: 1,
                pass_id: [7; 8],
                event_id: "evt_0123456789abcdef0123".into(),
                ticket_id: "tkt_00112233445566778899".into(),
                serial: "000042".into(),
                seat: "A-12".into(),
                ticket_type: "Floor".into(),
                valid_from_secs: 0,
                valid_until_secs: u32::MAX,
            };
            let text = pass.sign(&keys.signing_key(&pass.event_id, 1));
            let public = keys.verifying_key(&pass.event_id, 1);
            for _ in 0..body.iterations {
                ok += u32::from(Pass::verify(&text, |_, _| Some(public)).is_ok());
            }
        }
        _ => {
            return Err(Error::invalid(
                "kind",
                "must be siwe, jwt, qr_hmac or pass_ed25519",
            ));
        }
    }
    Ok(Response::json(
        200,
        &json!({"kind": body.kind, "iterations": body.iterations, "ok": ok}),
    ))
}
