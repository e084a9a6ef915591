//! Indexer metrics, kept in one Redis hash so `/metrics` (any instance) can render them.

use shared::ports::Redis;
use shared::redis::Command;

/// Gauges set after every tick, and counters added to.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TickMetrics {
    pub last_block: Option<u64>,
    pub chain_head: Option<u64>,
    pub batch_blocks: u64,
    pub tick_duration_ms: u64,
    pub logs_indexed: u64,
    pub decode_errors: u64,
    pub reorgs: u64,
    pub deep_reorgs: u64,
}

/// The hash holding the indexer metrics.
pub fn key(prefix: &str) -> String {
    format!("{prefix}metrics:indexer")
}

/// Writes the tick's metrics; failures only lose them.
pub async fn record<R: Redis>(redis: &R, prefix: &str, m: &TickMetrics) {
    let key = key(prefix);
    let mut commands = vec![
        Command::new("HSET")
            .arg(&key)
            .arg("batch_blocks")
            .arg(m.batch_blocks)
            .arg("tick_duration_ms")
            .arg(m.tick_duration_ms),
        Command::new("HINCRBY").arg(&key).arg("ticks_total").arg(1),
        Command::new("HINCRBY")
            .arg(&key)
            .arg("logs_indexed_total")
            .arg(m.logs_indexed),
        Command::new("HINCRBY")
            .arg(&key)
            .arg("decode_errors_total")
            .arg(m.decode_errors),
        Command::new("HINCRBY")
            .arg(&key)
            .arg("reorgs_total")
            .arg(m.reorgs),
        Command::new("HINCRBY")
            .arg(&key)
            .arg("deep_reorgs_total")
            .arg(m.deep_reorgs),
    ];
    if let Some(block) = m.last_block {
        commands.push(Command::new("HSET").arg(&key).arg("last_block").arg(block));
    }
    if let Some(head) = m.chain_head {
        commands.push(Command::new("HSET").arg(&key).arg("chain_head").arg(head));
    }
    let _ = redis.pipeline(commands).await;
}
