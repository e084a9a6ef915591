//! The end-to-end harness, after zero2prod's `spawn_app`: [`Stack::start`] brings up the real
//! local stack (redis-server, the Upstash REST and Hrana fronts over an embedded libSQL file,
//! anvil) with a fresh database, and [`App::spawn`] starts the *release* Wasm build on a real
//! runtime (workerd through Miniflare, or `wasmtime serve`) configured against it.
//!
//! Every child runs in its own process group and the whole group is killed on drop, so a
//! failing test leaves nothing behind. Child output goes to `target/e2e-logs/`.

pub mod catalog;
pub mod cdn;
pub mod chain;
pub mod contract;
pub mod cost;
pub mod cost_deposit;
pub mod costs;
pub mod door;
mod idempotent;
pub mod live;
pub mod live_ops;
pub mod payments;
mod process;
pub mod prometheus;
pub mod proxy;
pub mod sse;
pub mod swap;
pub mod wallet;

pub use costs::Costs;
pub use process::Proc;

use ops::front::{FrontConfig, HranaConfig, RunningFronts, UpstashConfig};
use ops::http::ReqwestHttp;
use shared::hrana::HranaClient;
use shared::upstash::UpstashClient;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// The chain id anvil runs with.
pub const CHAIN_ID: u64 = 31337;
/// The Stripe webhook signing secret the functions run with (a test value in `whsec_` shape).
pub const STRIPE_WEBHOOK_SECRET: &str = "whsec_onlineticket_e2e_endpoint_secret";
/// The bearer secret of the HTTP cron trigger in tests.
pub const CRON_SECRET: &str = "e2e-cron-secret-e2e-cron-secret-e2e";
const REDIS_TOKEN: &str = "e2e-redis-token";
/// The JWT secret of test deployments.
pub const JWT_SECRET: &str = "e2e-jwt-secret-0123456789abcdef0123";
/// Signs queue tickets and admission tokens (tests forge and read them).
pub const ADMISSION_SECRET: &str = "e2e-admission-secret-0123456789abcdef";
/// The `aud` of test deployments' access tokens (the default).
pub const JWT_AUDIENCE: &str = "onlineticket-edge";
const LIBSQL_TOKEN: &str = "e2e-libsql-token";

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A unique name for this test process + counter (log files, key prefixes).
pub fn unique(label: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    format!(
        "{label}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A free loopback port (bound and released; the tiny race is acceptable in tests).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

async fn wait_for_tcp(port: u16, what: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "{what} did not listen on {port}; see {}",
            log.display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The real local stack, fresh per test.
pub struct Stack {
    pub name: String,
    pub upstash_url: String,
    pub libsql_url: String,
    pub rpc_url: String,
    redis: Option<Proc>,
    redis_port: u16,
    fronts: Option<RunningFronts>,
    _anvil: Proc,
    dir: PathBuf,
}

impl Stack {
    /// Starts redis-server, the fronts, anvil, and applies `migrations/`.
    pub async fn start() -> Stack {
        let name = unique("stack");
        let dir = root().join("target/e2e-logs").join(&name);
        std::fs::create_dir_all(&dir).expect("log dir");

        let redis_port = free_port();
        let redis = Proc::spawn(
            "redis-server",
            &[
                "--port",
                &redis_port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            &[],
            &dir.join("redis.log"),
        );
        wait_for_tcp(redis_port, "redis-server", &dir.join("redis.log")).await;

        let anvil_port = free_port();
        let anvil_bin = root().join("node_modules/.bin/anvil");
        let anvil = Proc::spawn(
            anvil_bin.to_str().expect("utf-8 path"),
            &[
                "--port",
                &anvil_port.to_string(),
                "--host",
                "127.0.0.1",
                "--chain-id",
                &CHAIN_ID.to_string(),
            ],
            &[],
            &dir.join("anvil.log"),
        );

        let fronts = ops::front::serve(FrontConfig {
            upstash: Some(UpstashConfig::new(
                format!("redis://127.0.0.1:{redis_port}"),
                REDIS_TOKEN,
            )),
            hrana: Some(HranaConfig::new(
                dir.join("db.sqlite").to_string_lossy(),
                LIBSQL_TOKEN,
            )),
        })
        .await
        .expect("the local fronts start");
        wait_for_tcp(anvil_port, "anvil", &dir.join("anvil.log")).await;

        let stack = Stack {
            upstash_url: fronts.upstash_url().expect("upstash front"),
            libsql_url: fronts.hrana_url().expect("hrana front"),
            rpc_url: format!("http://127.0.0.1:{anvil_port}"),
            name,
            redis: Some(redis),
            redis_port,
            fronts: Some(fronts),
            _anvil: anvil,
            dir,
        };
        ops::migrations::apply_dir(
            &root().join("migrations"),
            &stack.libsql_url,
            Some(LIBSQL_TOKEN),
        )
        .await
        .expect("migrations apply");
        stack
    }

    /// The port redis-server listens on (for tools that speak RESP, such as
    /// `redis-benchmark`).
    pub fn redis_port(&self) -> u16 {
        self.redis_port
    }

    /// Stops redis-server (the REST front keeps running and must report it down).
    pub fn kill_redis(&mut self) {
        self.redis = None;
    }

    /// The function configuration for this stack, as environment variables. Rate limits are
    /// generous here; the rate-limit tests lower them.
    pub fn function_env(&self, key_prefix: &str, public_url: &str) -> Vec<(String, String)> {
        [
            ("UPSTASH_REDIS_REST_URL", self.upstash_url.as_str()),
            ("UPSTASH_REDIS_REST_TOKEN", REDIS_TOKEN),
            ("REDIS_KEY_PREFIX", key_prefix),
            ("LIBSQL_URL", self.libsql_url.as_str()),
            ("LIBSQL_AUTH_TOKEN", LIBSQL_TOKEN),
            ("RPC_URL", self.rpc_url.as_str()),
            ("CHAIN_ID", "31337"),
            ("JWT_SECRET", JWT_SECRET),
            ("ADMISSION_SECRET", ADMISSION_SECRET),
            ("PUBLIC_URL", public_url),
            ("RATE_LIMIT_AUTH", "1000:2000"),
            ("RATE_LIMIT_READ", "1000:2000"),
            ("RATE_LIMIT_WRITE", "1000:2000"),
            ("CRON_SECRET", CRON_SECRET),
            ("STRIPE_WEBHOOK_SECRET", STRIPE_WEBHOOK_SECRET),
            ("DEPENDENCY_TIMEOUT_MS", "3000"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    /// Our Hrana client on this stack's database.
    pub fn sql(&self) -> HranaClient<ReqwestHttp> {
        HranaClient::new(http(), &self.libsql_url, Some(LIBSQL_TOKEN))
    }

    /// Our Upstash client on this stack's Redis.
    pub fn redis(&self) -> UpstashClient<ReqwestHttp> {
        UpstashClient::new(http(), &self.upstash_url, REDIS_TOKEN)
    }

    /// The tokens, for tools that talk to the fronts themselves.
    pub fn tokens(&self) -> (&'static str, &'static str) {
        (REDIS_TOKEN, LIBSQL_TOKEN)
    }

    /// Where this stack's logs go.
    pub fn log_dir(&self) -> &Path {
        &self.dir
    }

    /// What the requests so far cost on the fronts (reading is not counted); subtract two
    /// readings for the cost of what ran between them.
    pub async fn stats(&self) -> Costs {
        costs::fetch(self, false).await
    }

    /// Zeroes the fronts' cost counters and returns the counts they had.
    pub async fn reset_stats(&self) -> Costs {
        costs::fetch(self, true).await
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        if let Some(fronts) = self.fronts.take() {
            fronts.shutdown_handle().shutdown();
        }
    }
}

fn http() -> ReqwestHttp {
    ReqwestHttp::new(Duration::from_secs(10)).expect("http client")
}

/// A response, read whole.
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    /// The body as JSON (`Null` when it is not JSON).
    pub body: serde_json::Value,
    pub raw: Vec<u8>,
}

impl Reply {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts an error response with `code` (and `field` for validation errors).
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str, field: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(self.body["error_code"], code, "{}", self.body);
        assert_eq!(self.body["field"].as_str(), field, "{}", self.body);
    }
}

/// Runs `node --test` on `files` (relative to the repository root) with `env`, asserts that
/// every test passed, and returns the report.
pub async fn run_node_tests(files: &[String], env: &[(&str, &str)]) -> String {
    let output = tokio::process::Command::new("node")
        .arg("--test")
        .args(files)
        .current_dir(root())
        .envs(env.iter().copied())
        .output()
        .await
        .expect("node runs");
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success() && report.contains("# fail 0"),
        "node tests failed:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    report
}

/// Which runtime serves the Wasm build.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    /// The Workers bundle on workerd (Miniflare).
    Workerd,
    /// The Spin component on `wasmtime serve`.
    Wasmtime,
}

/// A running function.
pub struct App {
    pub runtime: Runtime,
    pub base_url: String,
    pub client: reqwest::Client,
    /// Where the runtime's stdout and stderr go (the function's error log lines too).
    pub log: PathBuf,
    _proc: Proc,
    /// Every response to `client` is checked against `functions/openapi.json` on its way
    /// through this proxy; dropping the app fails the test on a violation.
    pub contract: contract::Guard,
    /// workerd: where serve-worker.mjs writes the port of its control server, which fires the
    /// scheduled handler.
    control_file: PathBuf,
}

impl App {
    /// Starts the release build on `runtime` against `stack`, with `overrides` applied to the
    /// environment (an empty value removes the variable).
    pub async fn spawn(runtime: Runtime, stack: &Stack, overrides: &[(&str, &str)]) -> App {
        let key_prefix = format!("{}:", unique("app"));
        let port = free_port();
        let base_url = format!("http://127.0.0.1:{port}");
        let mut env = stack.function_env(&key_prefix, &base_url);
        for (key, value) in overrides {
            env.retain(|(k, _)| k != key);
            if !value.is_empty() {
                env.push(((*key).to_owned(), (*value).to_owned()));
            }
        }
        let log = stack
            .log_dir()
            .join(format!("{}-{runtime:?}.log", unique("app")));
        let control_file = log.with_extension("control");
        let proc = match runtime {
            Runtime::Workerd => {
                let bundle = root().join("functions/hosts/cloudflare/build/index.js");
                assert!(
                    bundle.exists(),
                    "{} is missing: run scripts/build-wasm.sh",
                    bundle.display()
                );
                let bindings: serde_json::Map<String, serde_json::Value> = env
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone().into()))
                    .collect();
                let script = root().join("tests/support/serve-worker.mjs");
                Proc::spawn(
                    "node",
                    &[script.to_str().expect("utf-8 path")],
                    &[
                        ("PORT".to_owned(), port.to_string()),
                        (
                            "CONTROL_FILE".to_owned(),
                            control_file.to_string_lossy().into_owned(),
                        ),
                        (
                            "WORKER_BINDINGS".to_owned(),
                            serde_json::Value::Object(bindings).to_string(),
                        ),
                    ],
                    &log,
                )
            }
            Runtime::Wasmtime => {
                // The Spin component plugged into the wasi:config adapter (scripts/build-wasm.sh):
                // configuration keys go in as Spin variables (`SPIN_VARIABLE_<KEY>`, read through
                // wasi:config as on Spin); anything else stays a plain environment variable.
                let component = root().join("target/wasm32-wasip2/release/ot_spin_wasmtime.wasm");
                assert!(
                    component.exists(),
                    "{} is missing: run scripts/build-wasm.sh",
                    component.display()
                );
                let wasmtime = root().join(".tools/bin/wasmtime");
                let addr = format!("127.0.0.1:{port}");
                let mut args: Vec<String> = vec![
                    "serve".into(),
                    "-S".into(),
                    "cli".into(),
                    "--addr".into(),
                    addr,
                ];
                for (k, v) in &env {
                    args.push("--env".into());
                    match shared::config::keys::key(k) {
                        Some(key) => args.push(format!(
                            "SPIN_VARIABLE_{}={v}",
                            key.spin_name().to_ascii_uppercase()
                        )),
                        None => args.push(format!("{k}={v}")),
                    }
                }
                args.push(component.to_string_lossy().into_owned());
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                Proc::spawn(wasmtime.to_str().expect("utf-8 path"), &args, &[], &log)
            }
        };
        let contract = contract::Guard::start().await;
        let app = App {
            runtime,
            base_url,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .proxy(reqwest::Proxy::http(&contract.url).expect("contract proxy URL"))
                .build()
                .expect("client"),
            log: log.clone(),
            _proc: proc,
            contract,
            control_file,
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Ok(r) = app
                .client
                .get(format!("{}/health", app.base_url))
                .send()
                .await
                && r.status().is_success()
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{runtime:?} did not come up; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        app
    }

    /// An access token for `wallet` with `role`, signed with the deployment's secret: for
    /// tests of authorization (the login flows themselves are tested with real wallets).
    pub fn token_for(&self, wallet: &str, role: shared::domain::Role) -> String {
        let wallet = shared::domain::WalletAddress::parse(wallet).expect("test wallet");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        shared::auth::jwt::JwtCodec::new(JWT_SECRET.as_bytes(), &self.base_url, JWT_AUDIENCE, 900)
            .issue(&wallet, role, &unique("jti"), &unique("sid"), now)
            .expect("token")
    }

    /// Sends a request (optionally with a bearer token, a JSON body and headers) and reads the
    /// whole response.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.request(method, path);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let raw = response.bytes().await.expect("body").to_vec();
        let body = serde_json::from_slice(&raw).unwrap_or(serde_json::Value::Null);
        Reply {
            status,
            headers,
            body,
            raw,
        }
    }

    /// Fires the authenticated HTTP trigger of the indexer (both runtimes serve it).
    pub async fn trigger_cron_http(&self) -> reqwest::Response {
        self.request(reqwest::Method::POST, "/internal/cron/indexer")
            .bearer_auth(CRON_SECRET)
            .timeout(Duration::from_secs(300))
            .send()
            .await
            .expect("cron trigger sent")
    }

    /// `GET path`.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.request(reqwest::Method::GET, path)
            .send()
            .await
            .expect("request sent")
    }

    /// Sends every request at once (at most `in_flight` at a time) and returns the replies as
    /// `(status, JSON body)` in request order.
    pub async fn burst(
        &self,
        requests: Vec<reqwest::RequestBuilder>,
        in_flight: usize,
    ) -> Vec<(u16, serde_json::Value)> {
        let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(in_flight));
        let mut tasks = Vec::with_capacity(requests.len());
        for request in requests {
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move {
                let _permit = gate.acquire().await.expect("semaphore");
                let response = request.send().await.expect("request sent");
                let status = response.status().as_u16();
                let body = response
                    .json::<serde_json::Value>()
                    .await
                    .unwrap_or(serde_json::Value::Null);
                (status, body)
            }));
        }
        let mut replies = Vec::with_capacity(tasks.len());
        for task in tasks {
            replies.push(task.await.expect("task"));
        }
        replies
    }

    /// A request builder for `path`.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base_url))
    }

    /// Fires the platform's scheduled trigger: Workers' cron handler on workerd, the
    /// authenticated HTTP trigger on Spin.
    pub async fn trigger_cron(&self) -> reqwest::Response {
        let request = match self.runtime {
            // Not through the contract proxy: the control server is not the API.
            Runtime::Workerd => {
                let port = std::fs::read_to_string(&self.control_file)
                    .unwrap_or_else(|e| panic!("{}: {e}", self.control_file.display()));
                reqwest::Client::new().get(format!(
                    "http://127.0.0.1:{}/scheduled?cron=*+*+*+*+*",
                    port.trim()
                ))
            }
            Runtime::Wasmtime => self
                .request(reqwest::Method::POST, "/internal/cron/indexer")
                .bearer_auth(CRON_SECRET),
        };
        request.send().await.expect("cron trigger sent")
    }
}
