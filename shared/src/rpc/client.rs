//! The JSON-RPC client and its port.

use crate::chain::RawLog;
use crate::domain::{BlockNumber, ChainId};
use crate::http::{HttpRequest, TransportError};
use crate::ports::HttpClient;
use alloy_primitives::{Address, B256, Bytes, U64};
use serde::Deserialize;
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
    /// `eth_getLogs` refused the block range (too many blocks or results). `suggested_to` is
    /// the last block of a range the provider said would work, when it said one.
    #[error("block range too wide (suggested end: {suggested_to:?}): {message}")]
    RangeTooWide {
        suggested_to: Option<u64>,
        message: String,
    },
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

    /// `eth_getBlockByNumber(n, false)`: the header fields the indexer needs.
    ///
    /// # Errors
    /// [`RpcError`]; `Decode` when the block does not exist.
    async fn block_header(&self, number: u64) -> Result<BlockHeader, RpcError>;

    /// `eth_getLogs` for `addresses` over `from..=to`.
    ///
    /// # Errors
    /// [`RpcError::RangeTooWide`] when the provider refuses the range.
    async fn logs(
        &self,
        addresses: &[Address],
        from: u64,
        to: u64,
    ) -> Result<Vec<RawLog>, RpcError>;

    /// `eth_call` of `data` on the contract at `to`, at the latest block.
    ///
    /// # Errors
    /// [`RpcError`]; a revert is [`RpcError::Rpc`].
    async fn eth_call(&self, to: Address, data: Bytes) -> Result<Bytes, RpcError>;
}

/// A block's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockHeader {
    pub number: u64,
    pub hash: B256,
    pub parent_hash: B256,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HeaderJson {
    number: U64,
    hash: B256,
    parent_hash: B256,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogJson {
    address: Address,
    topics: Vec<B256>,
    data: Bytes,
    block_number: U64,
    block_hash: B256,
    transaction_hash: B256,
    log_index: U64,
    #[serde(default)]
    removed: bool,
}

/// Recognises the "range too wide / too many results" answers of the common providers, and
/// the range they suggest. Messages as seen by rindexer and Ponder:
/// Alchemy "Log response size exceeded. … this block range should work: [0x…, 0x…]",
/// Infura "query returned more than 10000 results. Try with this block range [0x…, 0x…]",
/// QuickNode "eth_getLogs is limited to a 10,000 range", Ankr "block range is too wide",
/// others "exceed maximum block range: 5000", "limit exceeded", "response size exceeded".
pub fn classify_logs_error(code: i64, message: &str) -> Option<RpcError> {
    let lower = message.to_ascii_lowercase();
    let range_error = [
        "response size exceeded",
        "more than 10000 results",
        "limited to a",
        "block range is too wide",
        "block range too large",
        "exceed maximum block range",
        "range exceeds",
        "limit exceeded",
        "query timeout exceeded",
        "too many results",
    ]
    .iter()
    .any(|needle| lower.contains(needle));
    if !range_error {
        return None;
    }
    // A suggested range is the last `[0x…, 0x…]` in the message.
    let suggested_to = message.rsplit_once('[').and_then(|(_, rest)| {
        let inner = rest.split(']').next()?;
        let (_, to) = inner.split_once(',')?;
        u64::from_str_radix(to.trim().trim_start_matches("0x"), 16).ok()
    });
    let _ = code;
    Some(RpcError::RangeTooWide {
        suggested_to,
        message: message.to_owned(),
    })
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
    async fn eth_call(&self, to: Address, data: Bytes) -> Result<Bytes, RpcError> {
        self.call("eth_call", json!([{"to": to, "data": data}, "latest"]))
            .await
    }

    async fn chain_id(&self) -> Result<ChainId, RpcError> {
        let id: U64 = self.call("eth_chainId", json!([])).await?;
        ChainId::new(id.to::<u64>()).ok_or_else(|| RpcError::Decode("chain id 0".into()))
    }

    async fn block_number(&self) -> Result<BlockNumber, RpcError> {
        let number: U64 = self.call("eth_blockNumber", json!([])).await?;
        Ok(BlockNumber(number.to::<u64>()))
    }

    async fn block_header(&self, number: u64) -> Result<BlockHeader, RpcError> {
        let header: Option<HeaderJson> = self
            .call(
                "eth_getBlockByNumber",
                json!([format!("{number:#x}"), false]),
            )
            .await?;
        let header =
            header.ok_or_else(|| RpcError::Decode(format!("block {number} does not exist")))?;
        Ok(BlockHeader {
            number: header.number.to::<u64>(),
            hash: header.hash,
            parent_hash: header.parent_hash,
        })
    }

    async fn logs(
        &self,
        addresses: &[Address],
        from: u64,
        to: u64,
    ) -> Result<Vec<RawLog>, RpcError> {
        let filter = json!([{"address": addresses, "fromBlock": format!("{from:#x}"), "toBlock": format!("{to:#x}")}]);
        let logs: Vec<LogJson> = match self.call("eth_getLogs", filter).await {
            Err(RpcError::Rpc { code, message }) => {
                return Err(
                    classify_logs_error(code, &message).unwrap_or(RpcError::Rpc { code, message })
                );
            }
            other => other?,
        };
        Ok(logs
            .into_iter()
            .filter(|log| !log.removed)
            .map(|log| RawLog {
                address: log.address,
                topics: log.topics,
                data: log.data.to_vec(),
                block_number: log.block_number.to::<u64>(),
                block_hash: log.block_hash,
                tx_hash: log.transaction_hash,
                log_index: log.log_index.to::<u64>(),
            })
            .collect())
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
    fn recognises_provider_range_errors_and_their_suggestions() {
        let alchemy = "Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, or you can request any block range with a cap of 10K logs in the response. Based on your parameters and the response size limit, this block range should work: [0x10, 0x1f]";
        assert_eq!(
            classify_logs_error(-32602, alchemy),
            Some(RpcError::RangeTooWide {
                suggested_to: Some(0x1f),
                message: alchemy.into()
            })
        );
        let infura =
            "query returned more than 10000 results. Try with this block range [0x1, 0xa].";
        assert!(matches!(
            classify_logs_error(-32005, infura),
            Some(RpcError::RangeTooWide {
                suggested_to: Some(10),
                ..
            })
        ));
        for plain in [
            "eth_getLogs is limited to a 10,000 range",
            "block range is too wide",
            "exceed maximum block range: 5000",
        ] {
            assert!(
                matches!(
                    classify_logs_error(-32000, plain),
                    Some(RpcError::RangeTooWide {
                        suggested_to: None,
                        ..
                    })
                ),
                "{plain}"
            );
        }
        assert_eq!(classify_logs_error(-32000, "execution reverted"), None);
    }

    #[test]
    fn decodes_logs_and_headers() {
        let http = FakeHttp::new();
        let hash = format!("0x{}", "11".repeat(32));
        let parent = format!("0x{}", "22".repeat(32));
        http.reply_json(200, json!({"jsonrpc":"2.0","id":1,"result":{"number":"0x5","hash":hash,"parentHash":parent,"extra":1}}));
        http.reply_json(200, json!({"jsonrpc":"2.0","id":1,"result":[{
            "address":"0x5fbdb2315678afecb367f032d93f642f64180aa3","topics":[hash],"data":"0x01ff",
            "blockNumber":"0x5","blockHash":hash,"transactionHash":parent,"logIndex":"0x2","removed":false}]}));
        http.reply_json(200, json!({"jsonrpc":"2.0","id":1,"error":{"code":-32005,"message":"query returned more than 10000 results"}}));
        let rpc = RpcClient::new(&http, "http://node");
        let header = block_on(rpc.block_header(5)).expect("header");
        assert_eq!(header.number, 5);
        assert_eq!(format!("{:#x}", header.parent_hash), parent);
        let logs = block_on(rpc.logs(&[], 1, 5)).expect("logs");
        assert_eq!(
            (
                logs[0].block_number,
                logs[0].log_index,
                logs[0].data.clone()
            ),
            (5, 2, vec![1, 255])
        );
        assert_eq!(http.sent_json(1)["params"][0]["fromBlock"], "0x1");
        assert!(matches!(
            block_on(rpc.logs(&[], 1, 5)),
            Err(RpcError::RangeTooWide { .. })
        ));
        assert_eq!(http.sent_json(0)["params"], json!(["0x5", false]));
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
