//! Seat holds on workerd: `POST /v1/holds` throughput next to `/health` on the same App, the raw
//! `EVALSHA` rate of the hold script on the same Redis (what a hold costs without the HTTP,
//! auth and libSQL around it), and the no-oversell count of a 1,000-request burst for 100 seats.

use crate::{CONNECTIONS, load, load_with};
use e2e::catalog::{
    EventSpec, PublishedEvent, availability, hold_burst, publish_event, seat, type_counts,
};
use e2e::{App, Runtime, Stack, root};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use std::collections::{BTreeMap, HashSet};
use std::io::Write as _;

const BUYER: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
/// The largest supply the catalog accepts (`shared::domain::MAX_SUPPLY`): room for every hold.
const HUGE_SUPPLY: u32 = shared::domain::MAX_SUPPLY;
/// `EVALSHA` calls in the `redis-benchmark` run.
const EVALSHA_CALLS: &str = "100000";

/// A distinct test wallet per number.
fn wallet(n: usize) -> String {
    format!("0x{:040x}", n + 1)
}

/// A published event with `seats` seats (none when 0) and `ga_supply` GA units; `limit`
/// per wallet and type (`None`: no limit).
async fn published_event(
    app: &App,
    seats: usize,
    ga_supply: u32,
    limit: Option<u32>,
) -> PublishedEvent {
    let spec = EventSpec {
        title: "Bench sale",
        per_wallet_limit: limit,
        ..EventSpec::new(seats, ga_supply)
    };
    publish_event(app, &spec).await
}

/// `redis-cli -p port args…`, its output trimmed.
async fn redis_cli(port: u16, args: &[&str]) -> String {
    let output = tokio::process::Command::new("redis-cli")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(args)
        .output()
        .await
        .expect("redis-cli runs");
    assert!(output.status.success(), "redis-cli {args:?} failed");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// The hold figures on one App of `runtime` against `stack`; on workerd also the raw EVALSHA
/// rate and the no-oversell burst.
pub async fn run(stack: &Stack, runtime: Runtime) {
    // Limits high enough not to refuse the load (the bucket check itself still runs).
    let app = App::spawn(
        runtime,
        stack,
        &[
            ("RATE_LIMIT_WRITE", "1000000:1000000"),
            ("RATE_LIMIT_READ", "1000000:1000000"),
        ],
    )
    .await;
    let event = published_event(&app, 0, HUGE_SUPPLY, None).await;
    let token = app.token_for(BUYER, Role::User);
    let body = json!({"eventId": event.id, "ticketTypeId": event.ga(), "quantity": 1});
    // One hold first: it loads the inventory and shows the reply every request should get.
    let first = app
        .send(
            Method::POST,
            "/v1/holds",
            Some(&token),
            Some(body.clone()),
            &[],
        )
        .await;
    assert_eq!(first.status, 201, "{}", first.body);

    println!(
        "## Seat holds on {runtime:?}: autocannon -c {CONNECTIONS} -d {}s, one wallet, GA type of supply {HUGE_SUPPLY}, quantity 1",
        crate::SECONDS
    );
    println!("| route | req/s | p50 ms | p99 ms | non-2xx | errors | status codes |");
    println!("|---|---|---|---|---|---|---|");
    let health_url = format!("{}/health", app.base_url);
    let holds_url = format!("{}/v1/holds", app.base_url);
    let authorization = format!("authorization=Bearer {token}");
    let body_text = body.to_string();
    let hold_args = [
        "-m",
        "POST",
        "-H",
        &authorization,
        "-H",
        "content-type=application/json",
        "-b",
        &body_text,
    ];
    // Warm up both routes (JIT, connections), then measure.
    let _ = load(&health_url).await;
    let _ = load_with(&holds_url, &hold_args).await;
    let health = load(&health_url).await;
    let holds = load_with(&holds_url, &hold_args).await;
    for (route, result) in [("/health", &health), ("POST /v1/holds", &holds)] {
        println!(
            "| {route} | {:.0} | {} | {} | {} | {} | {} |",
            result.rps, result.p50, result.p99, result.non_2xx, result.errors, result.statuses
        );
    }
    println!(
        "holds/health: {:.2}x (goal >= 0.5x)",
        holds.rps / health.rps
    );
    let _ = std::io::stdout().flush();

    println!();
    if runtime == Runtime::Workerd {
        evalsha_reference(stack, &event, &first.body, holds.rps).await;
        println!();
        no_oversell(&app).await;
    }
}

/// `redis-benchmark` of `EVALSHA hold.lua` on the stack's Redis, with the keys and arguments
/// `POST /v1/holds` sends for `event` (`reply` is an HTTP hold's 201 body).
async fn evalsha_reference(stack: &Stack, event: &PublishedEvent, reply: &Value, http_rps: f64) {
    let port = stack.redis_port();
    // The inventory the HTTP holds loaded: its meta key names the App's key prefix.
    let meta_suffix = format!("inv:{{{}}}:meta", event.id);
    let found = redis_cli(port, &["--scan", "--pattern", &format!("*{meta_suffix}")]).await;
    let meta = found
        .lines()
        .next()
        .expect("the HTTP holds loaded the inventory");
    let prefix = meta.strip_suffix(&meta_suffix).expect("suffix").to_owned();
    let inventory = |part: &str| format!("{prefix}inv:{{{}}}:{part}", event.id);
    let record_prefix = format!("{prefix}hold:");

    let scripts = root().join("functions/src/scripts");
    let read = |f: &str| std::fs::read_to_string(scripts.join(f)).expect("script");
    // As `routes/holds/create.rs` assembles it: the gate, the hold and catalog functions, then
    // hold.lua as `main`.
    let script = format!(
        "{}{}{}local function main()\n{}\nend\nreturn gate_run(main)\n",
        read("gate_lib.lua"),
        read("hold_lib.lua"),
        read("catalog_lib.lua"),
        read("hold.lua")
    );
    let sha = redis_cli(port, &["SCRIPT", "LOAD", &script]).await;

    // ARGV as `create.rs` builds them, with a gate that limits nothing (no bucket keys).
    let wallet = shared::domain::WalletAddress::parse(BUYER)
        .expect("wallet")
        .checksummed();
    let _ = reply;
    let want = json!({"type": event.ga(), "quantity": 1}).to_string();
    let spec = json!({"b": 0, "r": 0, "rate": 1, "burst": 0}).to_string();
    let catalog = |part: &str| format!("{prefix}cat:{{{}}}:{part}", event.id);
    let held_key = format!("{}:held", event.ga());
    let stock = inventory("stock");
    let args = |hold_id: &str| -> Vec<String> {
        let mut args = vec!["EVALSHA".to_owned(), sha.clone(), "12".to_owned()];
        args.extend(
            [
                "meta", "seats", "stock", "wallets", "expiry", "waitlist", "waiting", "offers",
            ]
            .map(inventory),
        );
        args.push(format!("{record_prefix}{hold_id}"));
        args.extend([
            catalog("snap"),
            catalog("seats"),
            format!("{prefix}cat:epoch"),
        ]);
        args.extend([
            record_prefix.clone(),
            hold_id.to_owned(),
            wallet.clone(),
            event.id.clone(),
            "1".to_owned(),
            want.clone(),
            spec.clone(),
        ]);
        args
    };

    println!(
        "## EVALSHA hold.lua on the stack's redis-server (port {port}): redis-benchmark -c {CONNECTIONS} -n {EVALSHA_CALLS} -r 100000000"
    );
    let one = args("hld_00000000ffffffffffff");
    let one: Vec<&str> = one.iter().map(String::as_str).collect();
    let single = redis_cli(port, &one).await;
    println!(
        "one EVALSHA {sha} via redis-cli answered: {}",
        single.replace('\n', " ")
    );
    assert!(
        single.lines().any(|l| l == "OK"),
        "the benchmarked call must take the OK path: {single}"
    );
    let held_before = redis_cli(port, &["HGET", &stock, &held_key]).await;

    let templated = args("hld_00000000__rand_int__");
    let output = tokio::process::Command::new("redis-benchmark")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args([
            "-c",
            CONNECTIONS,
            "-n",
            EVALSHA_CALLS,
            "-r",
            "100000000",
            "--csv",
        ])
        .args(&templated)
        .output()
        .await
        .expect("redis-benchmark runs");
    let csv = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "redis-benchmark failed: {csv}");
    // The last line: the command (unescaped quotes inside), then 7 numbers.
    let fields: Vec<&str> = csv
        .lines()
        .last()
        .expect("a result line")
        .split("\",\"")
        .collect();
    let number = |from_end: usize| -> f64 {
        fields[fields.len() - from_end]
            .trim_matches('"')
            .parse()
            .unwrap_or(f64::NAN)
    };
    let (ops, p50, p99) = (number(7), number(4), number(2));
    let held_after = redis_cli(port, &["HGET", &stock, &held_key]).await;
    let parse = |s: &str| s.parse::<i64>().unwrap_or(-1);
    println!(
        "EVALSHA: {ops:.0} ops/s, p50 {p50} ms, p99 {p99} ms; {held_key} went {held_before} -> {held_after} (+{} for {EVALSHA_CALLS} calls)",
        parse(&held_after) - parse(&held_before)
    );
    println!(
        "HTTP holds/s vs EVALSHA ops/s: {:.3}x ({http_rps:.0} / {ops:.0})",
        http_rps / ops
    );
    let _ = std::io::stdout().flush();
}

/// A fresh event with 100 seats (and 50 GA units): 1,000 hold requests from 1,000 wallets, seat
/// lists of 1–3 seats and GA quantities mixed. Guards: no seat held twice, at most 100 seats.
async fn no_oversell(app: &App) {
    let event = published_event(app, 100, 50, Some(4)).await;
    let seated = event.seated.clone().expect("seated type");
    let requests: Vec<(String, Value)> = (0..1000)
        .map(|i| {
            let body = match i % 4 {
                0 => json!({"eventId": event.id, "seats": [seat(i / 4 % 100)]}),
                1 => json!({"eventId": event.id, "seats": [seat(i * 7 % 100), seat((i * 7 + 1) % 100)]}),
                2 => json!({"eventId": event.id, "seats": [
                    seat(i * 13 % 100), seat((i * 13 + 5) % 100), seat((i * 13 + 50) % 100)]}),
                _ => json!({"eventId": event.id, "ticketTypeId": event.ga(), "quantity": 1 + i / 4 % 2}),
            };
            (app.token_for(&wallet(i), Role::User), body)
        })
        .collect();
    let started = std::time::Instant::now();
    let replies = hold_burst(app, requests).await;
    let wall = started.elapsed().as_secs_f64();

    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    let mut seats_held = Vec::new();
    let mut ga_held = 0;
    for (status, body) in &replies {
        let code = body["error_code"].as_str().unwrap_or("");
        *outcomes
            .entry(format!("{status} {code}").trim().to_owned())
            .or_default() += 1;
        if *status == 201 {
            for item in body["items"].as_array().expect("items") {
                match item["seatLabel"].as_str() {
                    Some(label) => seats_held.push(label.to_owned()),
                    None => ga_held += item["quantity"].as_i64().expect("quantity"),
                }
            }
        }
    }
    let distinct: HashSet<&String> = seats_held.iter().collect();
    let twice = seats_held.len() - distinct.len();
    let counts = availability(app, &event.id).await;

    println!(
        "## No oversell on workerd: 1,000 hold requests (200 in flight) from 1,000 wallets for 100 seats + 50 GA units"
    );
    println!(
        "burst took {wall:.2} s ({:.0} req/s); replies: {}",
        1000.0 / wall,
        outcomes
            .iter()
            .map(|(k, n)| format!("{k}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "seats held in 201 replies: {} ({} distinct, {twice} held twice); GA units held: {ga_held}",
        seats_held.len(),
        distinct.len()
    );
    println!(
        "availability: seats {}; seated type (held, sold, free) {:?}; GA type {:?}",
        counts["seats"],
        type_counts(&counts, &seated),
        type_counts(&counts, event.ga())
    );
    let _ = std::io::stdout().flush();
    assert_eq!(twice, 0, "a seat was held twice");
    assert!(seats_held.len() <= 100, "more than 100 seats held");
    assert!(ga_held <= 50, "GA oversold: {ga_held}");
    assert_eq!(
        counts["seats"]["held"].as_u64(),
        Some(distinct.len() as u64),
        "availability disagrees with the replies: {counts}"
    );
}
