//! Signatures from a real wallet library (ethers, `tests/js/api/sign.mjs`), as a wallet app
//! would make them, for the SIWE and simple-login tests.

use crate::root;
use serde_json::Value;

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
