//! Real Uniswap V2 on anvil for the swap-quote tests: the npm packages' Factory, Pair and
//! Router02 with test tokens, WETH and Multicall3 (`tests/js/chain/swap.mjs`), and Router02's
//! own answers to compare the API's quotes with.

use crate::chain::chain_cmd;
use alloy_primitives::{Address, Bytes, U256};
use alloy_sol_types::{SolCall, sol};
use serde_json::{Value, json};

sol! {
    function getAmountsOut(uint256 amountIn, address[] path) external view returns (uint256[] amounts);
    function getAmountsIn(uint256 amountOut, address[] path) external view returns (uint256[] amounts);
}

/// What `chain.mjs swap-deploy` made: the tokens by name (`A`, `B`, `C`, `D`, `E`, `USDC`,
/// `WETH`), the router and the factory, and its raw output for `swap-trade`.
pub struct Uniswap {
    pub deployed: Value,
    pub factory: Address,
    pub router: Address,
    pub base_tokens: Vec<Address>,
    /// `SWAP_FACTORY` and `SWAP_BASE_TOKENS` as text, for [`Uniswap::overrides`].
    env: [(&'static str, String); 2],
}

fn address(v: &Value) -> Address {
    v.as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{v} is not an address"))
}

impl Uniswap {
    /// Deploys everything on the node at `rpc`.
    pub async fn deploy(rpc: &str) -> Uniswap {
        let deployed = chain_cmd(rpc, "swap-deploy", &[]).await;
        let factory = address(&deployed["factory"]);
        let base_tokens: Vec<Address> = deployed["baseTokens"]
            .as_array()
            .expect("baseTokens")
            .iter()
            .map(address)
            .collect();
        let bases: Vec<String> = base_tokens.iter().map(ToString::to_string).collect();
        Uniswap {
            env: [
                ("SWAP_FACTORY", factory.to_string()),
                ("SWAP_BASE_TOKENS", bases.join(",")),
            ],
            factory,
            router: address(&deployed["router"]),
            base_tokens,
            deployed,
        }
    }

    /// A token by its name in the deployment.
    pub fn token(&self, name: &str) -> Address {
        address(&self.deployed["tokens"][name])
    }

    /// Whether the deployment created a pool of `a` and `b`.
    pub fn has_pool(&self, a: Address, b: Address) -> bool {
        self.deployed["pairs"].as_array().is_some_and(|pairs| {
            pairs.iter().any(|p| {
                let (t0, t1) = (address(&p["token0"]), address(&p["token1"]));
                (t0, t1) == (a, b) || (t0, t1) == (b, a)
            })
        })
    }

    /// The function configuration that quotes this deployment (Multicall3 at its canonical
    /// address, the default), as `App::spawn` overrides: push a test's own after it.
    pub fn overrides(&self) -> Vec<(&'static str, &str)> {
        self.env.iter().map(|(k, v)| (*k, v.as_str())).collect()
    }

    /// 50 quote requests over every ordered pair of every token of the deployment: each pair
    /// exact-in, then exact-out until there are 50 (every pair the batch can touch).
    pub fn all_pairs_batch(&self, amount: &str) -> Vec<Value> {
        let mut quotes = Vec::new();
        for side in ["amountIn", "amountOut"] {
            for a in TOKENS {
                for b in TOKENS.iter().filter(|b| **b != a) {
                    quotes.push(json!({"tokenIn": self.token(a).to_string(),
                                       "tokenOut": self.token(b).to_string(), side: amount}));
                }
            }
        }
        quotes.truncate(50);
        quotes
    }

    /// The pools the deployment created, as (pair, reserve0, reserve1).
    pub fn pools(&self) -> Vec<(String, String, String)> {
        pool_rows(&self.deployed["pairs"])
    }

    /// Swaps `amount_in` along `path` (token names) on chain; returns the block it landed in.
    pub async fn trade(&self, rpc: &str, path: &str, amount_in: &str) -> u64 {
        let out = chain_cmd(
            rpc,
            "swap-trade",
            &[
                "--addresses",
                &self.deployed.to_string(),
                "--path",
                path,
                "--amount-in",
                amount_in,
            ],
        )
        .await;
        out["blockNumber"].as_u64().expect("blockNumber")
    }
}

/// The tokens `swap-deploy` makes, by name.
pub const TOKENS: [&str; 7] = ["A", "B", "C", "D", "E", "USDC", "WETH"];

/// A JSON array of pairs as sorted (pair, reserve0, reserve1) rows: the API's `pairs` answer
/// and the deployment's pools read alike.
pub fn pool_rows(pairs: &Value) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = pairs
        .as_array()
        .expect("pairs")
        .iter()
        .map(|p| {
            (
                p["pair"].to_string(),
                p["reserve0"].to_string(),
                p["reserve1"].to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

/// One question for Router02.
#[derive(Debug, Clone)]
pub struct RouterQuestion {
    pub path: Vec<Address>,
    pub exact_in: bool,
    pub amount: U256,
}

/// Router02's `getAmountsOut` / `getAmountsIn` for each question at `block`, in one JSON-RPC
/// batch per 200 questions; `None` where the router reverts.
pub async fn router_amounts(
    rpc: &str,
    router: Address,
    block: u64,
    questions: &[RouterQuestion],
) -> Vec<Option<Vec<U256>>> {
    let client = reqwest::Client::new();
    let mut answers = Vec::with_capacity(questions.len());
    for chunk in questions.chunks(200) {
        let calls: Vec<Value> = chunk
            .iter()
            .enumerate()
            .map(|(id, q)| {
                let data: Bytes = if q.exact_in {
                    getAmountsOutCall {
                        amountIn: q.amount,
                        path: q.path.clone(),
                    }
                    .abi_encode()
                } else {
                    getAmountsInCall {
                        amountOut: q.amount,
                        path: q.path.clone(),
                    }
                    .abi_encode()
                }
                .into();
                json!({"jsonrpc": "2.0", "id": id, "method": "eth_call",
                       "params": [{"to": router, "data": data}, format!("{block:#x}")]})
            })
            .collect();
        let mut replies: Vec<Value> = client
            .post(rpc)
            .json(&calls)
            .send()
            .await
            .expect("rpc batch sent")
            .json()
            .await
            .expect("rpc batch json");
        replies.sort_by_key(|r| r["id"].as_u64());
        assert_eq!(replies.len(), chunk.len(), "one reply per call");
        for reply in replies {
            let Some(hex) = reply["result"].as_str() else {
                answers.push(None);
                continue;
            };
            let bytes: Bytes = hex.parse().expect("hex result");
            answers.push(Some(
                getAmountsOutCall::abi_decode_returns(&bytes).expect("uint256[] result"),
            ));
        }
    }
    answers
}

/// A decimal string of a JSON answer as a number.
pub fn amount(v: &Value) -> U256 {
    v.as_str()
        .and_then(|s| U256::from_str_radix(s, 10).ok())
        .unwrap_or_else(|| panic!("{v} is not a decimal amount"))
}

/// The addresses of a JSON array.
pub fn path(v: &Value) -> Vec<Address> {
    v.as_array()
        .expect("path array")
        .iter()
        .map(address)
        .collect()
}
