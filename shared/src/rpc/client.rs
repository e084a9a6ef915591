//! The JSON-RPC client and its port.

use crate::domain::{BlockNumber, ChainId};
use crate::http::{HttpRequest, TransportError};
use crate::ports::HttpClient;
use alloy_primitives::U64;
use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};

/// Errors from the chain RPC.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum RpcError {
    /// The node could not be reached. Transient.
    #[error("rpc unreachable: {0}")]
    Transport(#[from] TransportError),
    /// Unexpected HTTP status (429 and 5xx: transient).
    #[error("rpc answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// The node answered with a JSON-RPC error object.
    #[error("rpc error {code}: {message}")]
    Rpc { code: i64, message: String },
    /// The response could not be decoded.
    #[error("malformed rpc response: {0}")]
    Decode(String),
}

impl RpcError {
    /// Whether the node itself is unavailable (as opposed to rejecting the call).
    pub fn is_unavailable(&self) -> bool {
        match self {
            RpcError::Transport(_) => true,
            RpcError::Http { status, .. } => *status >= 500 || *status == 429 || *status == 401,
            _ => false,
        }
    }
}

/// The chain port.
#[allow(async_fn_in_trait)]
pub trait ChainRpc {
    /// `eth_chainId`.
    ///
    /// # Errors
    /// [`RpcError`] when the node is unreachable or answers nonsense.
    async fn chain_id(&self) -> Result<ChainId, RpcError>;

    /// `eth_blockNumber`.
    ///
    /// # Errors
    /// [`RpcError`] when the node is unreachable or answers nonsense.
    async fn block_number(&self) -> Result<BlockNumber, RpcError>;
}

/// JSON-RPC 2.0 over HTTP POST.
#[derive(Debug, Clone)]
pub struct RpcClient<H> {
    http: H,
    url: String,
}

impl<H: HttpClient> RpcClient<H> {
    /// A client for the node at `url`.
    pub fn new(http: H, url: &str) -> Self {
        RpcClient {
            http,
            url: url.to_owned(),
        }
    }

    /// Calls `method` with `params` and decodes `result`.
    ///
    /// # Errors
    /// See [`RpcError`].
    pub async fn call<R: DeserializeOwned>(
        &self,
        method: &str,
        params: Json,
    ) -> Result<R, RpcError> {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let response = self
            .http
            .send(HttpRequest::post_json(&self.url, &body))
            .await?;
        if response.status != 200 {
            return Err(RpcError::Http {
                status: response.status,
                body: response.body_snippet(200),
            });
        }
        let mut reply: Json = serde_json::from_slice(&response.body)
            .map_err(|e| RpcError::Decode(format!("{e}: {}", response.body_snippet(200))))?;
        if let Some(error) = reply.get("error").filter(|e| !e.is_null()) {
            return Err(RpcError::Rpc {
                code: error.get("code").and_then(Json::as_i64).unwrap_or(0),
                message: error
                    .get("message")
                    .and_then(Json::as_str)
                    .unwrap_or("")
                    .to_owned(),
            });
        }
        let result = reply
            .get_mut("result")
            .map(Json::take)
            .ok_or_else(|| RpcError::Decode("no result".into()))?;
        serde_json::from_value(result)
            .map_err(|e| RpcError::Decode(format!("{method} result: {e}")))
    }
}

impl<H: HttpClient> ChainRpc for RpcClient<H> {
    async fn chain_id(&self) -> Result<ChainId, RpcError> {
        let id: U64 = self.call("eth_chainId", json!([])).await?;
        ChainId::new(id.to::<u64>()).ok_or_else(|| RpcError::Decode("chain id 0".into()))
    }

    async fn block_number(&self) -> Result<BlockNumber, RpcError> {
        let number: U64 = self.call("eth_blockNumber", json!([])).await?;
        Ok(BlockNumber(number.to::<u64>()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{FakeHttp, block_on};

    #[test]
    fn decodes_hex_quantities() {
        let http = FakeHttp::new();
        http.reply_json(200, json!({"jsonrpc":"2.0","id":1,"result":"0x7a69"}));
        http.reply_json(200, json!({"jsonrpc":"2.0","id":1,"result":"0x1f"}));
        let rpc = RpcClient::new(&http, "http://node");
        assert_eq!(block_on(rpc.chain_id()).map(ChainId::get), Ok(31337));
        assert_eq!(block_on(rpc.block_number()), Ok(BlockNumber(31)));
        assert_eq!(http.sent_json(0)["method"], "eth_chainId");
        assert_eq!(http.sent_json(1)["method"], "eth_blockNumber");
    }

    #[test]
    fn rpc_errors_and_bad_bodies_are_classified() {
        let http = FakeHttp::new();
        http.reply_json(
            200,
            json!({"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"method not found"}}),
        );
        http.reply_json(200, json!({"jsonrpc":"2.0","id":1,"result":"zz"}));
        http.reply_raw(429, b"slow down");
        http.fail_transport();
        let rpc = RpcClient::new(&http, "http://node");
        assert_eq!(
            block_on(rpc.block_number()),
            Err(RpcError::Rpc {
                code: -32601,
                message: "method not found".into()
            })
        );
        assert!(matches!(
            block_on(rpc.block_number()),
            Err(RpcError::Decode(_))
        ));
        assert!(
            block_on(rpc.block_number())
                .expect_err("429")
                .is_unavailable()
        );
        assert!(
            block_on(rpc.block_number())
                .expect_err("down")
                .is_unavailable()
        );
    }
}
