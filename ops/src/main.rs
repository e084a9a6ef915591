//! `otctl`: placeholder entry point that starts the local data fronts from
//! flags (the real CLI replaces this file; the start-up logic lives in
//! `ops::front::serve`).
//!
//! ```text
//! otctl [--redis-url redis://127.0.0.1:6379] [--upstash-port 0] [--upstash-token T]
//!       [--db PATH|:memory:] [--hrana-port 0] [--hrana-token T]
//! ```
//! Prints `UPSTASH_REDIS_REST_URL=…` and `LIBSQL_URL=…` once listening, then
//! runs until Ctrl-C / SIGTERM.

use std::net::{Ipv4Addr, SocketAddr};

use ops::front::{FrontConfig, HranaConfig, UpstashConfig, serve};

fn usage(msg: &str) -> ! {
    eprintln!("otctl: {msg}");
    eprintln!(
        "usage: otctl [--redis-url URL] [--upstash-port N] [--upstash-token T] [--db PATH] [--hrana-port N] [--hrana-token T]"
    );
    std::process::exit(2)
}

fn port(v: &str) -> u16 {
    v.parse()
        .unwrap_or_else(|_| usage(&format!("not a port: {v}")))
}

#[tokio::main]
async fn main() {
    let mut redis_url = None;
    let mut db = None;
    let mut upstash_port = 0;
    let mut hrana_port = 0;
    let mut upstash_token = String::from("dev-upstash-token");
    let mut hrana_token = String::from("dev-libsql-token");
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{flag} needs a value")))
        };
        match flag.as_str() {
            "--redis-url" => redis_url = Some(value()),
            "--db" => db = Some(value()),
            "--upstash-port" => upstash_port = port(&value()),
            "--hrana-port" => hrana_port = port(&value()),
            "--upstash-token" => upstash_token = value(),
            "--hrana-token" => hrana_token = value(),
            other => usage(&format!("unknown flag {other}")),
        }
    }
    let config = FrontConfig {
        upstash: redis_url.map(|url| UpstashConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, upstash_port)),
            ..UpstashConfig::new(url, upstash_token)
        }),
        hrana: db.map(|path| HranaConfig {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, hrana_port)),
            ..HranaConfig::new(path, hrana_token)
        }),
    };
    if config.upstash.is_none() && config.hrana.is_none() {
        usage("nothing to start: give --redis-url and/or --db");
    }
    let fronts = match serve(config).await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("otctl: {e}");
            std::process::exit(1);
        }
    };
    if let Some(url) = fronts.upstash_url() {
        println!("UPSTASH_REDIS_REST_URL={url}");
    }
    if let Some(url) = fronts.hrana_url() {
        println!("LIBSQL_URL={url}");
    }
    let stop = fronts.shutdown_handle();
    tokio::spawn(async move {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
        stop.shutdown();
    });
    if let Err(e) = fronts.wait().await {
        eprintln!("otctl: {e}");
        std::process::exit(1);
    }
}
