//! `otctl`: native operations for OnlineTicket Edge.
//!
//! - `otctl fronts`   serve the local Upstash REST and Hrana fronts (the local stand-ins for
//!   Upstash and Turso) until Ctrl-C / SIGTERM;
//! - `otctl migrate`  apply `migrations/` to any libSQL URL over Hrana (idempotent);
//! - `otctl grant-admin` make a wallet an admin (bootstrap);
//! - `otctl reindex` / `otctl check` re-index from a block / verify projections against a
//!   rebuild from the raw logs;
//! - `otctl seed-demo` load the demo organizer, event, ticket types and seats (idempotent).

use clap::{Parser, Subcommand};
use ops::front::{FrontConfig, HranaConfig, UpstashConfig};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "otctl", about = "OnlineTicket Edge operations", version)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Serve the Upstash-compatible REST front and the Hrana-over-HTTP front on 127.0.0.1.
    Fronts {
        /// The real Redis behind the REST front.
        #[arg(long, default_value = "redis://127.0.0.1:6379")]
        redis_url: String,
        /// Port of the REST front (0: any free port).
        #[arg(long, default_value_t = 0)]
        upstash_port: u16,
        /// Bearer token of the REST front.
        #[arg(long, env = "UPSTASH_REDIS_REST_TOKEN")]
        upstash_token: String,
        /// libSQL database file behind the Hrana front (`:memory:` for a throw-away one).
        #[arg(long, default_value = ".stack/dev.db")]
        db: String,
        /// Port of the Hrana front (0: any free port).
        #[arg(long, default_value_t = 0)]
        hrana_port: u16,
        /// Bearer token of the Hrana front.
        #[arg(long, env = "LIBSQL_AUTH_TOKEN")]
        hrana_token: String,
    },
    /// Apply the numbered SQL files of a folder to a libSQL database, recording each version.
    Migrate {
        /// Database URL (`libsql://…` for Turso, `http://…` for the local front).
        #[arg(long, env = "LIBSQL_URL")]
        url: String,
        /// Auth token (Turso database token).
        #[arg(long, env = "LIBSQL_AUTH_TOKEN")]
        auth_token: Option<String>,
        /// The folder of `NNNN_name.sql` files.
        #[arg(long, default_value = "migrations")]
        dir: PathBuf,
    },
    /// Make a wallet an admin (bootstrap; recorded in the audit log with actor `otctl`).
    GrantAdmin {
        #[arg(long, env = "LIBSQL_URL")]
        url: String,
        #[arg(long, env = "LIBSQL_AUTH_TOKEN")]
        auth_token: Option<String>,
        /// The wallet address (any case).
        #[arg(long)]
        address: String,
    },
    /// Drop raw logs and projections from a block on; the next ticks re-index from the chain.
    Reindex {
        #[arg(long, env = "LIBSQL_URL")]
        url: String,
        #[arg(long, env = "LIBSQL_AUTH_TOKEN")]
        auth_token: Option<String>,
        #[arg(long, env = "CHAIN_ID")]
        chain_id: u64,
        #[arg(long)]
        from_block: u64,
    },
    /// Rebuild every projection from the raw logs into a scratch database and diff it against
    /// the live one; exits 1 when they differ.
    Check {
        #[arg(long, env = "LIBSQL_URL")]
        url: String,
        #[arg(long, env = "LIBSQL_AUTH_TOKEN")]
        auth_token: Option<String>,
        #[arg(long, env = "CHAIN_ID")]
        chain_id: u64,
        #[arg(long, default_value = "migrations")]
        migrations: PathBuf,
    },
    /// Rebuild Redis seat inventory from libSQL (the truth for what is sold) and print what
    /// differed; exits 1 when something did.
    Reconcile {
        #[arg(long, env = "UPSTASH_REDIS_REST_URL")]
        redis_url: String,
        #[arg(long, env = "UPSTASH_REDIS_REST_TOKEN")]
        redis_token: String,
        #[arg(long, env = "REDIS_KEY_PREFIX", default_value = "")]
        key_prefix: String,
        #[arg(long, env = "LIBSQL_URL")]
        url: String,
        #[arg(long, env = "LIBSQL_AUTH_TOKEN")]
        auth_token: Option<String>,
        /// One event (default: every event with an inventory).
        #[arg(long)]
        event: Option<String>,
    },
    /// Load the demo data (an organizer, a published event, ticket types and seats).
    SeedDemo {
        #[arg(long, env = "LIBSQL_URL")]
        url: String,
        #[arg(long, env = "LIBSQL_AUTH_TOKEN")]
        auth_token: Option<String>,
    },
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::new(Ipv4Addr::LOCALHOST.into(), port)
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse().command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("otctl: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Cmd) -> Result<(), String> {
    match command {
        Cmd::Fronts {
            redis_url,
            upstash_port,
            upstash_token,
            db,
            hrana_port,
            hrana_token,
        } => {
            if let Some(parent) = PathBuf::from(&db)
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
            {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("{}: {e}", parent.display()))?;
            }
            let mut upstash = UpstashConfig::new(redis_url, upstash_token);
            upstash.listen = loopback(upstash_port);
            let mut hrana = HranaConfig::new(db, hrana_token);
            hrana.listen = loopback(hrana_port);
            let fronts = ops::front::serve(FrontConfig {
                upstash: Some(upstash),
                hrana: Some(hrana),
            })
            .await
            .map_err(|e| e.to_string())?;
            println!(
                "UPSTASH_REDIS_REST_URL={}",
                fronts.upstash_url().unwrap_or_default()
            );
            println!("LIBSQL_URL={}", fronts.hrana_url().unwrap_or_default());
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
            fronts.wait().await.map_err(|e| e.to_string())
        }
        Cmd::Migrate {
            url,
            auth_token,
            dir,
        } => {
            let report = ops::migrations::apply_dir(&dir, &url, auth_token.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "migrations: applied {:?}, already applied {:?}",
                report.applied, report.already_applied
            );
            Ok(())
        }
        Cmd::GrantAdmin {
            url,
            auth_token,
            address,
        } => {
            let wallet = ops::admin::grant_admin(&url, auth_token.as_deref(), &address).await?;
            println!("{wallet} is now an admin");
            Ok(())
        }
        Cmd::Reconcile {
            redis_url,
            redis_token,
            key_prefix,
            url,
            auth_token,
            event,
        } => {
            let stores = ops::sales::Stores {
                redis_url: &redis_url,
                redis_token: &redis_token,
                key_prefix: &key_prefix,
                libsql_url: &url,
                libsql_token: auth_token.as_deref(),
            };
            let drift = ops::sales::reconcile(&stores, event.as_deref()).await?;
            let mut differed = false;
            for d in &drift {
                if d.seats.is_empty() && d.stock.is_empty() {
                    println!("{}: in line with libSQL", d.event_id);
                    continue;
                }
                differed = true;
                println!("{}: rebuilt from libSQL", d.event_id);
                for seat in &d.seats {
                    println!("    seat    {seat}");
                }
                for counter in &d.stock {
                    println!("    counter {counter}");
                }
            }
            if differed {
                return Err("Redis inventory differed from libSQL (now rebuilt)".to_owned());
            }
            Ok(())
        }
        Cmd::Reindex {
            url,
            auth_token,
            chain_id,
            from_block,
        } => {
            ops::indexer::reindex(&url, auth_token.as_deref(), chain_id, from_block).await?;
            println!("dropped everything from block {from_block}; the next ticks re-index it");
            Ok(())
        }
        Cmd::Check {
            url,
            auth_token,
            chain_id,
            migrations,
        } => {
            let report =
                ops::indexer::check(&url, auth_token.as_deref(), chain_id, &migrations).await?;
            println!("{} raw logs replayed", report.raw_logs);
            for t in &report.tables {
                let verdict = if t.only_live.is_empty() && t.only_rebuilt.is_empty() {
                    "ok"
                } else {
                    "DIFFERS"
                };
                println!(
                    "{:<24} live {:>7}  rebuilt {:>7}  {verdict}",
                    t.table, t.live_rows, t.rebuilt_rows
                );
                for row in &t.only_live {
                    println!("    only live:    {row}");
                }
                for row in &t.only_rebuilt {
                    println!("    only rebuilt: {row}");
                }
            }
            if report.consistent() {
                Ok(())
            } else {
                Err("projections differ from their rebuild".into())
            }
        }
        Cmd::SeedDemo { url, auth_token } => {
            let inserted = ops::demo::seed(&url, auth_token.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            println!("demo data: {inserted} rows inserted (0 means it was already there)");
            Ok(())
        }
    }
}
