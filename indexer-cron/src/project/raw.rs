//! `raw_logs`: every log of the configured contracts, decoded or not, exactly as the chain gave
//! it, so the consistency checker (and a re-index) can rebuild every projection from it.

use super::Indexed;
use super::rows::{address, hex32, insert_rows};
use shared::sql::{SqlValue, Statement};

/// The `raw_logs` rows of one batch.
pub(super) fn insert(chain_id: u64, indexed: &[Indexed], out: &mut Vec<Statement>) {
    let rows: Vec<Vec<SqlValue>> = indexed
        .iter()
        .map(|i| {
            let log = &i.log;
            let topics: Vec<String> = log.topics.iter().map(hex32).collect();
            vec![
                (chain_id as i64).into(),
                (log.block_number as i64).into(),
                hex32(&log.block_hash).into(),
                hex32(&log.tx_hash).into(),
                (log.log_index as i64).into(),
                address(&log.address).into(),
                topics.first().cloned().into(),
                serde_json::Value::from(topics).to_string().into(),
                format!("0x{}", hex::encode(&log.data)).into(),
                i.event.is_some().into(),
            ]
        })
        .collect();
    insert_rows(
        "raw_logs",
        &[
            "chain_id",
            "block_number",
            "block_hash",
            "tx_hash",
            "log_index",
            "address",
            "topic0",
            "topics",
            "data",
            "decoded",
        ],
        rows,
        out,
    );
}
