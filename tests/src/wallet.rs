//! Signatures from a real wallet library (ethers, `tests/js/api/sign.mjs`), as a wallet app
//! would make them, for the SIWE and simple-login tests.

use crate::{App, root};
use reqwest::Method;
use serde_json::{Value, json};

/// Signs `message` (EIP-191 `personal_sign`) with private key `key`: `{address, signature}`.
pub async fn sign(key: &str, message: &str) -> Value {
    let output = tokio::process::Command::new("node")
        .arg("tests/js/api/sign.mjs")
        .arg(key)
        .arg(message)
        .current_dir(root())
        .output()
        .await
        .expect("node runs");
    assert!(output.status.success(), "sign.mjs failed");
    serde_json::from_slice(&output.stdout).expect("sign.mjs prints JSON")
}

/// The `signature` of `message` by `key` (see [`sign`]).
pub async fn signature(key: &str, message: &str) -> String {
    sign(key, message).await["signature"]
        .as_str()
        .expect("signature")
        .to_owned()
}

/// A SIWE login of `address` (private key `key`) on chain 31337: the login's JSON (tokens and
/// user).
pub async fn siwe_login(app: &App, key: &str, address: &str) -> Value {
    let challenge = app
        .send(
            Method::POST,
            "/v1/auth/siwe/challenge",
            None,
            Some(json!({"address": address, "chainId": 31337})),
            &[],
        )
        .await;
    assert_eq!(challenge.status, 200, "{}", challenge.body);
    let message = challenge.body["message"].as_str().expect("message");
    let signature = signature(key, message).await;
    let verified = app
        .send(
            Method::POST,
            "/v1/auth/siwe/verify",
            None,
            Some(json!({"message": message, "signature": signature})),
            &[],
        )
        .await;
    assert_eq!(verified.status, 200, "{}", verified.body);
    verified.body
}
