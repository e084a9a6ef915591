//! Swap quotes against real Uniswap V2 contracts on anvil (the npm packages' Factory, Pair and
//! Router02, Multicall3 at its canonical address), on both runtimes: every quote equals what
//! Router02 answers on the same block, and the best path is chosen. The cache is
//! `swap_cache.rs`, batches and pairs `swap_batch.rs`, input errors `swap_input.rs`.

use alloy_primitives::{Address, U256};
use e2e::swap::{RouterQuestion, Uniswap, amount, path, router_amounts};
use e2e::{App, Runtime, Stack};
use reqwest::Method;
use serde_json::{Value, json};

/// The token pairs the differential test quotes (names in the deployment): deep and shallow
/// direct pools, one-hop only (A/C through USDC), a tiny pool (E) and no pool at all (D).
const PAIRS: &[(&str, &str)] = &[
    ("A", "B"),
    ("B", "A"),
    ("A", "C"),
    ("C", "A"),
    ("A", "WETH"),
    ("WETH", "B"),
    ("B", "USDC"),
    ("E", "WETH"),
    ("WETH", "E"),
    ("E", "B"),
    ("C", "B"),
    ("D", "A"),
];

/// xorshift64*: reproducible amounts without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A positive amount with 1 to 26 digits (1 wei up to 10^26: past every pool's reserves).
    fn amount(&mut self) -> String {
        let digits = 1 + (self.next() % 26) as usize;
        let mut text = String::with_capacity(digits);
        text.push(char::from(b'1' + (self.next() % 9) as u8));
        for _ in 1..digits {
            text.push(char::from(b'0' + (self.next() % 10) as u8));
        }
        text
    }
}

struct Case {
    token_in: &'static str,
    token_out: &'static str,
    exact_in: bool,
    amount: String,
}

impl Case {
    fn request(&self, uni: &Uniswap) -> Value {
        let side = if self.exact_in {
            "amountIn"
        } else {
            "amountOut"
        };
        json!({
            "tokenIn": uni.token(self.token_in).to_string(),
            "tokenOut": uni.token(self.token_out).to_string(),
            side: self.amount,
            "slippageBps": 100,
        })
    }

    fn query(&self, uni: &Uniswap) -> String {
        let side = if self.exact_in {
            "amountIn"
        } else {
            "amountOut"
        };
        format!(
            "/v1/swap/quote?tokenIn={}&tokenOut={}&{side}={}&slippageBps=100",
            uni.token(self.token_in),
            uni.token(self.token_out),
            self.amount
        )
    }

    /// The direct path and one hop through each base token that is neither end.
    fn candidates(&self, uni: &Uniswap) -> Vec<Vec<Address>> {
        let (a, b) = (uni.token(self.token_in), uni.token(self.token_out));
        let mut paths = vec![vec![a, b]];
        paths.extend(
            uni.base_tokens
                .iter()
                .filter(|base| **base != a && **base != b)
                .map(|base| vec![a, *base, b]),
        );
        paths
    }
}

/// What the test saw, so it can assert that it saw every kind of outcome.
#[derive(Default, Debug)]
struct Seen {
    direct: usize,
    hop: usize,
    errors: std::collections::BTreeMap<String, usize>,
}

/// Checks one answer against Router02 on the answer's block.
async fn check(rpc: &str, uni: &Uniswap, case: &Case, answer: &Value, seen: &mut Seen) {
    let candidates = case.candidates(uni);
    let asked = U256::from_str_radix(&case.amount, 10).expect("amount");
    let block = answer["blockNumber"].as_u64();
    let questions: Vec<RouterQuestion> = candidates
        .iter()
        .map(|path| RouterQuestion {
            path: path.clone(),
            exact_in: case.exact_in,
            amount: asked,
        })
        .collect();
    let head = e2e::chain::head(rpc).await;
    let router = router_amounts(rpc, uni.router, block.unwrap_or(head), &questions).await;
    // A path gives a quote when the router answers and (exact input) gives something.
    let valid: Vec<(&Vec<Address>, &Vec<U256>)> = candidates
        .iter()
        .zip(&router)
        .filter_map(|(path, amounts)| Some((path, amounts.as_ref()?)))
        .filter(|(_, amounts)| !amounts.last().is_some_and(U256::is_zero))
        .collect();
    let context = format!(
        "{} → {} {}: {answer}",
        case.token_in, case.token_out, case.amount
    );
    if let Some(code) = answer["error_code"].as_str() {
        assert!(
            valid.is_empty(),
            "the router quotes what the API refused: {context}"
        );
        let no_path = candidates
            .iter()
            .all(|path| path.windows(2).any(|hop| !uni.has_pool(hop[0], hop[1])));
        assert_eq!(code == "PAIR_NOT_FOUND", no_path, "{context}");
        *seen.errors.entry(code.to_owned()).or_default() += 1;
        return;
    }
    let quoted = path(&answer["path"]);
    let amounts: Vec<U256> = answer["amounts"]
        .as_array()
        .expect("amounts")
        .iter()
        .map(amount)
        .collect();
    let (_, router_amounts) = valid
        .iter()
        .find(|(p, _)| **p == quoted)
        .unwrap_or_else(|| panic!("the router does not quote the API's path: {context}"));
    assert_eq!(&amounts, *router_amounts, "bit for bit: {context}");
    let best = if case.exact_in {
        valid.iter().map(|(_, a)| a[a.len() - 1]).max()
    } else {
        valid.iter().map(|(_, a)| a[0]).min()
    };
    let ours = if case.exact_in {
        amounts[amounts.len() - 1]
    } else {
        amounts[0]
    };
    assert_eq!(Some(ours), best, "the best path: {context}");
    assert_eq!(amount(&answer["amountIn"]), amounts[0], "{context}");
    assert_eq!(
        amount(&answer["amountOut"]),
        amounts[amounts.len() - 1],
        "{context}"
    );
    if case.exact_in {
        assert_eq!(
            amount(&answer["minAmountOut"]),
            ours * U256::from(9_900) / U256::from(10_000)
        );
    } else {
        let max = (ours * U256::from(10_100)).div_ceil(U256::from(10_000));
        assert_eq!(amount(&answer["maxAmountIn"]), max, "{context}");
    }
    if quoted.len() == 2 {
        seen.direct += 1;
    } else {
        seen.hop += 1;
    }
}

/// 1,000 random quotes (500 alone, 500 in batches of 50), each equal to Router02's answer.
async fn matches_the_router(runtime: Runtime) {
    let stack = Stack::start().await;
    let uni = Uniswap::deploy(&stack.rpc_url).await;
    let overrides = uni.overrides();
    let app = App::spawn(runtime, &stack, &overrides).await;
    let mut rng = Rng(0x5eed_0000_0000_0015 ^ runtime as u64);
    let cases: Vec<Case> = (0..1_000)
        .map(|i| {
            let (token_in, token_out) = PAIRS[(rng.next() % PAIRS.len() as u64) as usize];
            Case {
                token_in,
                token_out,
                exact_in: i % 2 == 0,
                amount: rng.amount(),
            }
        })
        .collect();
    let mut seen = Seen::default();
    for case in &cases[..500] {
        let reply = app
            .send(Method::GET, &case.query(&uni), None, None, &[])
            .await;
        assert!(matches!(reply.status, 200 | 404 | 422), "{}", reply.body);
        check(&stack.rpc_url, &uni, case, &reply.body, &mut seen).await;
    }
    for batch in cases[500..].chunks(50) {
        let body = json!({"quotes": batch.iter().map(|c| c.request(&uni)).collect::<Vec<_>>()});
        let reply = app
            .send(Method::POST, "/v1/swap/quotes", None, Some(body), &[])
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let answers = reply.body["quotes"].as_array().expect("quotes");
        assert_eq!(answers.len(), batch.len());
        for (case, answer) in batch.iter().zip(answers) {
            let mut answer = answer.clone();
            answer["blockNumber"] = reply.body["blockNumber"].clone();
            check(&stack.rpc_url, &uni, case, &answer, &mut seen).await;
        }
    }
    // Every kind of outcome happened, so none of the assertions above was vacuous.
    assert!(seen.direct >= 100 && seen.hop >= 100, "{seen:?}");
    for code in [
        "PAIR_NOT_FOUND",
        "INSUFFICIENT_LIQUIDITY",
        "AMOUNT_TOO_SMALL",
    ] {
        assert!(
            seen.errors.get(code).is_some_and(|n| *n > 0),
            "{code}: {seen:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_swap_quotes_match_the_router() {
    matches_the_router(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_swap_quotes_match_the_router() {
    matches_the_router(Runtime::Wasmtime).await;
}
