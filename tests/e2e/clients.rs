//! Our own protocol clients (`shared::upstash`, `shared::hrana`, `shared::rpc`) against the
//! real services of the local stack.

use e2e::{CHAIN_ID, Stack};
use ops::http::ReqwestHttp;
use shared::ports::{ChainRpc, Redis, Sql};
use shared::redis::{Command, RedisError, Script, Value};
use shared::rpc::RpcClient;
use shared::sql::{SqlError, SqlValue, Statement};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn upstash_client_commands_pipeline_multi_exec_and_scripts() {
    let stack = Stack::start().await;
    let redis = stack.redis();

    redis
        .exec(Command::new("SET").arg("greeting").arg("héllo ✓"))
        .await
        .expect("set");
    let value = redis
        .exec(Command::new("GET").arg("greeting"))
        .await
        .expect("get");
    assert_eq!(value.as_str(), Some("héllo ✓"));
    assert_eq!(
        redis.exec(Command::new("GET").arg("missing")).await,
        Ok(Value::Nil)
    );
    let wrong = redis
        .exec(Command::new("LPUSH").arg("greeting").arg("x"))
        .await;
    assert!(matches!(wrong, Err(RedisError::Server(m)) if m.starts_with("WRONGTYPE")));

    let replies = redis
        .pipeline(vec![
            Command::new("INCR").arg("n"),
            Command::new("LPUSH").arg("greeting").arg("x"),
            Command::new("INCRBY").arg("n").arg(5),
        ])
        .await
        .expect("pipeline");
    assert_eq!(replies[0], Ok(Value::Int(1)));
    assert!(matches!(&replies[1], Err(RedisError::Server(m)) if m.starts_with("WRONGTYPE")));
    assert_eq!(replies[2], Ok(Value::Int(6)));

    let replies = redis
        .multi_exec(vec![
            Command::new("INCR").arg("n"),
            Command::new("GET").arg("n"),
        ])
        .await
        .expect("multi-exec");
    assert_eq!(replies[0], Ok(Value::Int(7)));
    assert_eq!(replies[1].as_ref().ok().and_then(Value::as_i64), Some(7));

    // A script the server has never seen: EVALSHA answers NOSCRIPT, the client falls back to
    // EVAL, and the next EVALSHA hits the cache.
    redis
        .exec(Command::new("SCRIPT").arg("FLUSH"))
        .await
        .expect("flush");
    let script = Script::new("return redis.call('INCRBY', KEYS[1], ARGV[1])");
    assert_eq!(
        redis.eval(&script, &["counter"], &["40"]).await,
        Ok(Value::Int(40))
    );
    let cached = redis
        .exec(Command::new("SCRIPT").arg("EXISTS").arg(script.sha1()))
        .await
        .expect("exists");
    assert_eq!(cached, Value::Array(vec![Value::Int(1)]));
    assert_eq!(
        redis.eval(&script, &["counter"], &["2"]).await,
        Ok(Value::Int(42))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn upstash_client_works_without_base64_encoding() {
    let stack = Stack::start().await;
    let redis = stack.redis().plain_json();
    redis
        .exec(Command::new("SET").arg("k").arg("plain ✓"))
        .await
        .expect("set");
    let replies = redis
        .pipeline(vec![
            Command::new("GET").arg("k"),
            Command::new("STRLEN").arg("k"),
        ])
        .await
        .expect("pipeline");
    assert_eq!(
        replies[0].as_ref().ok().and_then(Value::as_str),
        Some("plain ✓")
    );
    assert_eq!(replies[1], Ok(Value::Int(9)));
}

#[tokio::test(flavor = "multi_thread")]
async fn upstash_client_rejects_a_wrong_token() {
    let stack = Stack::start().await;
    let http = ReqwestHttp::new(Duration::from_secs(5)).expect("client");
    let redis = shared::upstash::UpstashClient::new(http, &stack.upstash_url, "wrong");
    assert_eq!(
        redis.ping().await,
        Err(RedisError::Unauthorized { status: 401 })
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hrana_client_round_trips_typed_values_and_named_args() {
    let stack = Stack::start().await;
    let sql = stack.sql();
    sql.execute(Statement::new(
        "CREATE TABLE kinds (i INTEGER, r REAL, t TEXT, b BLOB, n TEXT)",
    ))
    .await
    .expect("create");
    let inserted = sql
        .execute(
            Statement::new("INSERT INTO kinds VALUES (?, ?, ?, ?, ?)")
                .bind(i64::MIN)
                .bind(2.5)
                .bind("ünï")
                .bind(vec![0_u8, 255, 7])
                .bind(SqlValue::Null),
        )
        .await
        .expect("insert");
    assert_eq!(inserted.affected_row_count, 1);
    assert_eq!(inserted.last_insert_rowid, Some(1));
    let rows = sql
        .execute(Statement::new("SELECT * FROM kinds"))
        .await
        .expect("select");
    assert_eq!(rows.columns, ["i", "r", "t", "b", "n"]);
    assert_eq!(
        rows.rows,
        [vec![
            SqlValue::Integer(i64::MIN),
            SqlValue::Real(2.5),
            SqlValue::Text("ünï".into()),
            SqlValue::Blob(vec![0, 255, 7]),
            SqlValue::Null,
        ]]
    );
    let named = sql
        .execute(
            Statement::new("SELECT t FROM kinds WHERE i = :i AND r > @r")
                .bind_named(":i", i64::MIN)
                .bind_named("@r", 1.0),
        )
        .await
        .expect("named select");
    assert_eq!(named.rows, [vec![SqlValue::Text("ünï".into())]]);
}

#[tokio::test(flavor = "multi_thread")]
async fn hrana_atomic_batch_writes_all_or_nothing() {
    let stack = Stack::start().await;
    let sql = stack.sql();
    sql.execute(Statement::new(
        "CREATE TABLE probe_seats (label TEXT PRIMARY KEY)",
    ))
    .await
    .expect("create");

    let ok = sql
        .batch_atomic(vec![
            Statement::new("INSERT INTO probe_seats VALUES ('A1')"),
            Statement::new("INSERT INTO probe_seats VALUES ('A2')"),
        ])
        .await
        .expect("batch");
    assert_eq!(ok.len(), 2);

    // The middle statement violates the primary key: nothing of the batch may stay written.
    let err = sql
        .batch_atomic(vec![
            Statement::new("INSERT INTO probe_seats VALUES ('B1')"),
            Statement::new("INSERT INTO probe_seats VALUES ('A1')"),
            Statement::new("INSERT INTO probe_seats VALUES ('B2')"),
        ])
        .await
        .expect_err("middle statement fails");
    assert!(err.is_unique_violation(), "{err}");
    assert!(matches!(err, SqlError::Statement { index: Some(1), .. }));

    let rows = sql
        .execute(Statement::new(
            "SELECT label FROM probe_seats ORDER BY label",
        ))
        .await
        .expect("select");
    let labels: Vec<String> = rows
        .iter()
        .map(|r| r.get("label").expect("label"))
        .collect();
    assert_eq!(labels, ["A1", "A2"]);

    // The connection is usable afterwards (the transaction was rolled back, not left open).
    sql.execute(Statement::new("INSERT INTO probe_seats VALUES ('C1')"))
        .await
        .expect("insert after rollback");
}

#[tokio::test(flavor = "multi_thread")]
async fn rpc_client_reads_anvil() {
    let stack = Stack::start().await;
    let rpc = RpcClient::new(
        ReqwestHttp::new(Duration::from_secs(5)).expect("client"),
        &stack.rpc_url,
    );
    assert_eq!(rpc.chain_id().await.map(|c| c.get()), Ok(CHAIN_ID));
    let before = rpc.block_number().await.expect("head").0;
    let _: serde_json::Value = rpc
        .call("anvil_mine", serde_json::json!(["0x3"]))
        .await
        .expect("mine");
    assert_eq!(rpc.block_number().await.expect("head").0, before + 3);
}
