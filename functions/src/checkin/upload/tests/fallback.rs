//! A chunk that keeps losing races: re-read and decided again [`ATTEMPTS`] times, then scan by
//! scan, on a libSQL that fails every guarded upload batch.

use super::super::*;
use crate::testing::FakeServices;
use futures::executor::block_on;
use shared::checkin::pass::Pass;
use shared::config::Config;
use shared::sql::{Rows, SqlError, SqlValue, Statement};
use std::cell::RefCell;

const EVENT: &str = "evt_a";
const PASS_ID: &str = "0000000000000001";

/// One door ticket `t1` with a live pass [`PASS_ID`], and a writer that always got there first.
#[derive(Default)]
struct Contended {
    /// What each request was: `read`, `load`, `upload batch`, `scan batch`.
    log: RefCell<Vec<&'static str>>,
}

fn text(v: &str) -> SqlValue {
    SqlValue::Text(v.to_owned())
}

fn ticket_rows(pass_state: SqlValue) -> Rows {
    let columns = [
        "id",
        "event_id",
        "status",
        "owner",
        "seat_label",
        "serial",
        "token_id",
        "type_name",
        "order_status",
        "first_at",
        "first_gate",
        "first_device",
        "first_key",
        "first_nonce",
        "first_offline",
        "pass_state",
    ];
    let mut values = vec![text("t1"), text(EVENT), text("valid"), text("0xabc")];
    values.resize(columns.len() - 1, SqlValue::Null);
    values.push(pass_state);
    Rows {
        columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        rows: vec![values],
        ..Rows::default()
    }
}

impl shared::ports::Sql for Contended {
    async fn execute(&self, statement: Statement) -> Result<Rows, SqlError> {
        assert!(
            statement.sql.contains("WHERE t.id = ?1"),
            "{}",
            statement.sql
        );
        self.log.borrow_mut().push("load");
        Ok(ticket_rows(text("live")))
    }

    async fn batch_atomic(&self, statements: Vec<Statement>) -> Result<Vec<Rows>, SqlError> {
        let first = statements.first().map_or("", |s| s.sql.as_str());
        if first.contains("json_each") && first.starts_with("SELECT") {
            self.log.borrow_mut().push("read");
            let passes = Rows {
                columns: vec!["pass_id".into(), "ticket_id".into(), "live".into()],
                rows: vec![vec![text(PASS_ID), text("t1"), SqlValue::Integer(1)]],
                ..Rows::default()
            };
            return Ok(vec![ticket_rows(SqlValue::Null), passes, Rows::default()]);
        }
        if first.starts_with("INSERT INTO scans") {
            self.log.borrow_mut().push("scan batch");
            return Ok(vec![Rows::default(); statements.len()]);
        }
        self.log.borrow_mut().push("upload batch");
        Err(SqlError::Statement {
            index: Some(0),
            message: "guard_failed".into(),
            code: "SQLITE_CONSTRAINT".into(),
        })
    }
}

/// [`FakeServices`] with the contended libSQL.
struct ContendedServices {
    inner: FakeServices,
    sql: Contended,
}

impl Services for ContendedServices {
    type Redis = <FakeServices as Services>::Redis;
    type Sql = Contended;
    type Chain = <FakeServices as Services>::Chain;
    type Clock = <FakeServices as Services>::Clock;
    type Rng = <FakeServices as Services>::Rng;

    fn redis(&self) -> &Self::Redis {
        self.inner.redis()
    }
    fn sql(&self) -> &Contended {
        &self.sql
    }
    fn chain(&self) -> &Self::Chain {
        self.inner.chain()
    }
    fn clock(&self) -> &Self::Clock {
        self.inner.clock()
    }
    fn rng(&self) -> &Self::Rng {
        self.inner.rng()
    }
    fn config(&self) -> &Config {
        self.inner.config()
    }
    fn defer(&self, command: shared::redis::Command) {
        self.inner.defer(command);
    }
}

#[test]
fn a_chunk_that_keeps_losing_is_read_again_then_scanned_one_by_one() {
    let services = ContendedServices {
        inner: FakeServices::up(),
        sql: Contended::default(),
    };
    let now_secs = services.clock().now_ms() / 1000;
    let pass = Pass {
        key_generation: 1,
        pass_id: *b"\x00\x00\x00\x00\x00\x00\x00\x01",
        event_id: EVENT.into(),
        ticket_id: "t1".into(),
        serial: String::new(),
        seat: String::new(),
        ticket_type: String::new(),
        valid_from_secs: u32::try_from(now_secs - 3_600).expect("secs"),
        valid_until_secs: u32::try_from(now_secs + 3_600).expect("secs"),
    };
    let code = pass.sign(&services.config().checkin.pass_keys.signing_key(EVENT, 1));
    let pass_hex = pass.pass_id_hex();
    assert_eq!(pass_hex, PASS_ID);
    let scans = [ScanInput {
        code,
        gate: "G".into(),
        device_id: "d".into(),
        scanned_at: services.clock().now_ms() as i64 - 1_000,
        nonce: "nonce-0001".into(),
    }];
    let verifier = Verifier {
        key_id: "vk_up".into(),
        event_id: EVENT.into(),
        name: "doors".into(),
    };
    let results = block_on(run(&services, &verifier, &scans)).expect("answered");
    assert_eq!(results[0]["result"], "ok", "{}", results[0]);
    let log = services.sql.log.borrow().clone();
    assert_eq!(
        log,
        [
            "read",
            "upload batch",
            "read",
            "upload batch",
            "read",
            "upload batch",
            "read",
            "load",
            "scan batch",
            "read",
        ],
        "{ATTEMPTS} batches, each read again after; then the per-scan path, and a read for the \
         next chunks"
    );
    // The per-scan path locked and counted its admission itself; the batches counted nothing.
    let deferred = services.inner.deferred();
    assert!(
        deferred
            .iter()
            .any(|c| c.parts().first().map(String::as_str) == Some("SET")),
        "{deferred:?}"
    );
}
