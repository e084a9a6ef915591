//! The local Hrana front answers as `sqld` 0.24.33 does, point by point (issue 12, item 4).
//! Each expectation is `sqld`'s behaviour as read in `libsql-server`'s sources at tag
//! `libsql-server-v0.24.33`; the module docs of `ops/src/front/hrana/` name the files.
//!
//! Each test starts its own front over a throw-away database on a free loopback port.

use std::time::Duration;

use ops::front::{FrontConfig, HranaConfig, RunningFronts};
use ops::http::ReqwestHttp;
use serde_json::{Value, json};
use shared::hrana::HranaClient;
use shared::sql::{Sql, SqlError, Statement};

const TOKEN: &str = "fidelity-token";

struct Front {
    url: String,
    http: reqwest::Client,
    _fronts: RunningFronts,
}

impl Front {
    async fn start() -> Front {
        Front::start_with(HranaConfig::new(":memory:", TOKEN)).await
    }

    async fn start_with(config: HranaConfig) -> Front {
        let fronts = ops::front::serve(FrontConfig {
            upstash: None,
            hrana: Some(config),
        })
        .await
        .expect("the front starts");
        Front {
            url: fronts.hrana_url().expect("hrana front"),
            http: reqwest::Client::new(),
            _fronts: fronts,
        }
    }

    /// `POST /v2/pipeline` with a raw body: status, content type and body text.
    async fn raw(&self, path: &str, auth: Option<&str>, body: &str) -> (u16, String, String) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body.to_string());
        if let Some(auth) = auth {
            req = req.header("authorization", auth);
        }
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let ctype = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        (status, ctype, resp.text().await.expect("body"))
    }

    /// One pipeline on a new stream, closed at the end: status and body.
    async fn pipeline(&self, requests: Vec<Value>) -> (u16, Value) {
        let mut requests = requests;
        requests.push(json!({"type": "close"}));
        let body = json!({"baton": null, "requests": requests}).to_string();
        let (status, _, text) = self
            .raw("/v2/pipeline", Some(&format!("Bearer {TOKEN}")), &body)
            .await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// The results (before `close`) of a pipeline that must answer 200.
    async fn results(&self, requests: Vec<Value>) -> Vec<Value> {
        let n = requests.len();
        let (status, body) = self.pipeline(requests).await;
        assert_eq!(status, 200, "{body}");
        let results = body["results"].as_array().expect("results").clone();
        results.into_iter().take(n).collect()
    }

    /// One request's result.
    async fn one(&self, request: Value) -> Value {
        self.results(vec![request]).await.remove(0)
    }

    async fn sql(&self, sql: &str) -> Value {
        let r = self.one(execute(sql, json!([]))).await;
        assert_eq!(r["type"], "ok", "{sql}: {r}");
        r["response"]["result"].clone()
    }

    async fn count(&self, table: &str) -> i64 {
        let r = self.sql(&format!("SELECT count(*) FROM {table}")).await;
        r["rows"][0][0]["value"]
            .as_str()
            .and_then(|v| v.parse().ok())
            .expect("a count")
    }

    fn client(&self) -> HranaClient<ReqwestHttp> {
        let http = ReqwestHttp::new(Duration::from_secs(10)).expect("http client");
        HranaClient::new(http, &self.url, Some(TOKEN))
    }
}

fn int(v: i64) -> Value {
    json!({"type": "integer", "value": v.to_string()})
}

fn execute(sql: &str, args: Value) -> Value {
    json!({"type": "execute", "stmt": {"sql": sql, "args": args}})
}

fn step(sql: &str, args: Value, condition: Value) -> Value {
    json!({"condition": condition, "stmt": {"sql": sql, "args": args}})
}

fn batch(steps: Vec<Value>) -> Value {
    json!({"type": "batch", "batch": {"steps": steps}})
}

fn error_of(result: &Value) -> (String, String) {
    assert_eq!(result["type"], "error", "{result}");
    let e = &result["error"];
    (
        e["code"].as_str().unwrap_or_default().to_string(),
        e["message"].as_str().unwrap_or_default().to_string(),
    )
}

#[tokio::test]
async fn a_missing_positional_argument_is_args_invalid() {
    let f = Front::start().await;
    f.sql("CREATE TABLE t (a, b)").await;
    let r = f
        .one(execute("INSERT INTO t VALUES (?, ?)", json!([int(1)])))
        .await;
    assert_eq!(
        error_of(&r),
        (
            "ARGS_INVALID".into(),
            "Arguments do not match SQL parameters: value for parameter 2 not found".into()
        )
    );
    assert_eq!(f.count("t").await, 0);
}

#[tokio::test]
async fn a_missing_argument_rolls_back_a_conditional_batch() {
    let f = Front::start().await;
    f.sql("CREATE TABLE t (a, b)").await;
    let ok = |s: u32| json!({"type": "ok", "step": s});
    let r = f
        .one(batch(vec![
            step("BEGIN", json!([]), Value::Null),
            step(
                "INSERT INTO t VALUES (?, ?)",
                json!([int(1), int(2)]),
                ok(0),
            ),
            step("INSERT INTO t VALUES (?, ?)", json!([int(3)]), ok(1)),
            step("COMMIT", json!([]), ok(2)),
            step("ROLLBACK", json!([]), json!({"type": "not", "cond": ok(3)})),
        ]))
        .await;
    let result = &r["response"]["result"];
    assert_eq!(result["step_errors"][2]["code"], "ARGS_INVALID", "{r}");
    assert!(result["step_results"][3].is_null(), "COMMIT skipped: {r}");
    assert!(result["step_results"][4].is_object(), "ROLLBACK ran: {r}");
    assert_eq!(f.count("t").await, 0);
}

#[tokio::test]
async fn positional_and_named_arguments_do_not_mix() {
    let f = Front::start().await;
    let both = json!({"type": "execute", "stmt": {"sql": "SELECT ?, :a", "args": [int(1)],
        "named_args": [{"name": ":a", "value": int(2)}]}});
    assert_eq!(
        error_of(&f.one(both).await),
        (
            "ARGS_BOTH_POSITIONAL_AND_NAMED".into(),
            "Specifying both positional and named arguments is not supported".into()
        )
    );
    // Positional values never fill `:name` parameters.
    let r = f
        .one(execute("SELECT :a, :b", json!([int(1), int(2)])))
        .await;
    assert_eq!(
        error_of(&r),
        (
            "ARGS_INVALID".into(),
            "Arguments do not match SQL parameters: value for parameter :a not found".into()
        )
    );
    // Named values are found with or without their prefix; unused ones are ignored.
    let named = json!({"type": "execute", "stmt": {"sql": "SELECT :a, $b", "named_args": [
        {"name": "a", "value": int(1)}, {"name": "$b", "value": int(2)}]}});
    let r = f.one(named).await;
    assert_eq!(r["response"]["result"]["rows"][0][1]["value"], "2", "{r}");
    // `?NNN` takes positional values.
    let r = f
        .one(execute("SELECT ?2, ?1", json!([int(1), int(2)])))
        .await;
    assert_eq!(r["response"]["result"]["rows"][0][0]["value"], "2", "{r}");
}

#[tokio::test]
async fn a_parse_error_in_a_batch_runs_nothing() {
    let f = Front::start().await;
    f.sql("CREATE TABLE t (a)").await;
    let r = f
        .one(batch(vec![
            step("INSERT INTO t VALUES (1)", json!([]), Value::Null),
            step("INSERTT INTO t VALUES (2)", json!([]), Value::Null),
        ]))
        .await;
    let (code, message) = error_of(&r);
    assert_eq!(code, "SQL_PARSE_ERROR");
    assert!(
        message.starts_with("SQL string could not be parsed: "),
        "{message}"
    );
    assert_eq!(f.count("t").await, 0);
    // A table created by an earlier step is no parse error.
    let r = f
        .one(batch(vec![
            step("CREATE TABLE u (a)", json!([]), Value::Null),
            step("INSERT INTO u VALUES (1)", json!([]), Value::Null),
        ]))
        .await;
    assert!(r["response"]["result"]["step_errors"][1].is_null(), "{r}");
}

#[tokio::test]
async fn a_parse_error_in_a_sequence_runs_nothing() {
    let f = Front::start().await;
    f.sql("CREATE TABLE t (a)").await;
    let r = f
        .one(json!({"type": "sequence", "sql": "INSERT INTO t VALUES (1); SELEC 2;"}))
        .await;
    assert_eq!(error_of(&r).0, "SQL_PARSE_ERROR");
    assert_eq!(f.count("t").await, 0);
}

#[tokio::test]
async fn sqlite_errors_carry_sqlds_codes_and_messages() {
    let f = Front::start().await;
    f.sql("CREATE TABLE t (id INTEGER PRIMARY KEY, col TEXT UNIQUE)")
        .await;
    let r = f.one(execute("SELECT * FROM nope", json!([]))).await;
    assert_eq!(
        error_of(&r),
        (
            "SQLITE_UNKNOWN".into(),
            "SQLite error: no such table: nope".into()
        )
    );
    let r = f.one(execute("SELECT missing FROM t", json!([]))).await;
    assert_eq!(
        error_of(&r),
        (
            "SQL_INPUT_ERROR".into(),
            "SQL input error: no such column: missing (at offset 7)".into()
        )
    );
    f.sql("INSERT INTO t (col) VALUES ('x')").await;
    let r = f
        .one(execute("INSERT INTO t (col) VALUES ('x')", json!([])))
        .await;
    assert_eq!(
        error_of(&r),
        (
            "SQLITE_CONSTRAINT".into(),
            "SQLite error: UNIQUE constraint failed: t.col".into()
        )
    );
}

#[tokio::test]
async fn last_insert_rowid_is_null_after_update_and_rows_ignore_want_rows() {
    let f = Front::start().await;
    f.sql("CREATE TABLE t (id INTEGER PRIMARY KEY, a)").await;
    let ins = f.sql("INSERT INTO t (a) VALUES (1), (2)").await;
    assert_eq!(ins["last_insert_rowid"], "2");
    assert_eq!(ins["affected_row_count"], 2);
    let upd = f.sql("UPDATE t SET a = 3").await;
    assert_eq!(upd["last_insert_rowid"], Value::Null);
    assert_eq!(upd["affected_row_count"], 2);
    let del = f.sql("DELETE FROM t WHERE id = 1").await;
    assert_eq!(del["last_insert_rowid"], Value::Null);
    assert_eq!(del["affected_row_count"], 1);
    let sel = f.sql("SELECT 1").await;
    assert_eq!(sel["last_insert_rowid"], Value::Null);
    let r = f
        .one(json!({"type": "execute", "stmt": {"sql": "SELECT a FROM t", "want_rows": false}}))
        .await;
    assert_eq!(r["response"]["result"]["rows"][0][0]["value"], "3", "{r}");
}

#[tokio::test]
async fn protocol_errors_are_http_400_plain_text() {
    let f = Front::start().await;
    let auth = format!("Bearer {TOKEN}");
    let (status, ctype, text) = f.raw("/v2/pipeline", Some(&auth), "{not json").await;
    assert_eq!((status, ctype.as_str()), (400, "text/plain"));
    assert!(
        text.starts_with("Cannot deserialize client message from JSON: "),
        "{text}"
    );
    let body = r#"{"baton":null,"requests":[{"type":"frobnicate"}]}"#;
    let (status, _, text) = f.raw("/v2/pipeline", Some(&auth), body).await;
    assert_eq!(status, 400);
    assert!(text.contains("unknown variant `frobnicate`"), "{text}");
    let body = r#"{"baton":"forged","requests":[{"type":"close"}]}"#;
    let (status, ctype, text) = f.raw("/v2/pipeline", Some(&auth), body).await;
    assert_eq!(
        (status, ctype.as_str(), text.as_str()),
        (400, "text/plain", "Received an invalid baton")
    );
    let (status, body) = f
        .pipeline(vec![
            json!({"type": "close"}),
            execute("SELECT 1", json!([])),
        ])
        .await;
    assert_eq!(
        (status, body),
        (400, json!("Stream for this baton was closed"))
    );
    let (status, body) = f
        .pipeline(vec![batch(vec![step(
            "SELECT 1",
            json!([]),
            json!({"type": "ok", "step": 0}),
        )])])
        .await;
    assert_eq!(
        (status, body),
        (400, json!("Invalid reference to step in a batch condition"))
    );
    let (status, _) = f.pipeline(vec![json!({"type": "get_autocommit"})]).await;
    assert_eq!(status, 400, "get_autocommit is Hrana 3 only");
}

#[tokio::test]
async fn an_expired_streams_baton_is_stream_expired_and_hrana3_features_need_v3() {
    let mut config = HranaConfig::new(":memory:", TOKEN);
    config.stream_idle_timeout = Duration::from_millis(100);
    let f = Front::start_with(config).await;
    let auth = format!("Bearer {TOKEN}");
    let open = json!({"baton": null, "requests": [{"type": "get_autocommit"}]}).to_string();
    let (status, _, text) = f.raw("/v3/pipeline", Some(&auth), &open).await;
    assert_eq!(status, 200, "{text}");
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        body["results"][0]["response"]["is_autocommit"], true,
        "{body}"
    );
    let baton = body["baton"].as_str().expect("a baton").to_string();
    // Past the idle timeout and the reaper's tick (a quarter of it, at least 50 ms).
    tokio::time::sleep(Duration::from_millis(400)).await;
    let next = json!({"baton": baton, "requests": [{"type": "close"}]}).to_string();
    let (status, ctype, text) = f.raw("/v3/pipeline", Some(&auth), &next).await;
    assert_eq!((status, ctype.as_str()), (400, "application/json"));
    let body: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        body,
        json!({"message": "The stream has expired due to inactivity", "code": "STREAM_EXPIRED"})
    );
}

#[tokio::test]
async fn attach_detach_and_vacuum_are_refused() {
    let f = Front::start().await;
    let r = f.one(execute("VACUUM", json!([]))).await;
    assert_eq!(
        error_of(&r),
        (
            "SQL_PARSE_ERROR".into(),
            "SQL string could not be parsed: unsupported statement: VACUUM".into()
        )
    );
    let r = f.one(execute("ATTACH 'other.db' AS o", json!([]))).await;
    assert_eq!(error_of(&r).0, "SQL_PARSE_ERROR");
    let (status, body) = f
        .pipeline(vec![execute("ATTACH other AS o", json!([]))])
        .await;
    assert_eq!(
        (status, body),
        (
            403,
            json!({"error": "Authorization forbidden: Namespace `other` doesn't allow attach"})
        )
    );
    let r = f.one(execute("DETACH o", json!([]))).await;
    assert_eq!(
        error_of(&r),
        (
            "SQLITE_UNKNOWN".into(),
            "SQLite error: no such database: o".into()
        )
    );
}

#[tokio::test]
async fn a_refused_token_gets_sqlds_401_body() {
    let f = Front::start().await;
    let body = r#"{"baton":null,"requests":[{"type":"close"}]}"#;
    let cases = [
        (Some("Bearer wrong"), "The JWT is invalid"),
        (None, "Expected authorization header but none given"),
        (
            Some("Basic abc"),
            "The authentication scheme in the `Authorization` HTTP header is not supported",
        ),
        (
            Some("Bearer"),
            "Auth string does not conform to '<scheme> <token>' form",
        ),
    ];
    for (auth, reason) in cases {
        let (status, ctype, text) = f.raw("/v2/pipeline", auth, body).await;
        assert_eq!(
            (status, ctype.as_str()),
            (401, "application/json"),
            "{auth:?}"
        );
        let json: Value = serde_json::from_str(&text).expect("json");
        assert_eq!(json, json!({"error": format!("Unauthorized: `{reason}`")}));
    }
}

#[tokio::test]
async fn an_error_condition_also_holds_for_a_skipped_step() {
    // sqld keeps one bit per step ("ran and succeeded"); `error` is its negation.
    let f = Front::start().await;
    let r = f
        .one(batch(vec![
            step("SELECT 1", json!([]), Value::Null),
            step(
                "SELECT 2",
                json!([]),
                json!({"type": "not", "cond": {"type": "ok", "step": 0}}),
            ),
            step("SELECT 3", json!([]), json!({"type": "error", "step": 1})),
        ]))
        .await;
    let result = &r["response"]["result"];
    assert!(result["step_results"][1].is_null(), "skipped: {r}");
    assert!(
        result["step_errors"][1].is_null(),
        "skipped, not failed: {r}"
    );
    assert!(result["step_results"][2].is_object(), "{r}");
}

#[tokio::test]
async fn our_client_reads_sqlds_answers() {
    let f = Front::start().await;
    let client = f.client();
    client
        .execute(Statement::new("CREATE TABLE t (id INTEGER PRIMARY KEY, a)"))
        .await
        .expect("create");
    let ins = client
        .execute(Statement::new("INSERT INTO t (a) VALUES (?)").bind(1_i64))
        .await
        .expect("insert");
    assert_eq!(ins.last_insert_rowid, Some(1));
    let upd = client
        .execute(Statement::new("UPDATE t SET a = 2"))
        .await
        .expect("update");
    assert_eq!((upd.affected_row_count, upd.last_insert_rowid), (1, None));
    // A missing argument fails the atomic batch at its statement, and nothing is written.
    let err = client
        .batch_atomic(vec![
            Statement::new("INSERT INTO t (a) VALUES (?)").bind(3_i64),
            Statement::new("INSERT INTO t (a) VALUES (?)"),
        ])
        .await
        .expect_err("missing argument");
    assert!(
        matches!(&err, SqlError::Statement { index: Some(1), code, .. } if code == "ARGS_INVALID"),
        "{err:?}"
    );
    assert_eq!(f.count("t").await, 1);
    // A table missing at check time is no parse error: the batch runs, fails at that
    // statement and rolls back (what a migration that fails half-way relies on).
    let err = client
        .batch_atomic(vec![
            Statement::new("CREATE TABLE half_done (x INTEGER)"),
            Statement::new("INSERT INTO no_such_table VALUES (1)"),
        ])
        .await
        .expect_err("no such table");
    assert!(
        matches!(&err, SqlError::Statement { index: Some(1), code, .. } if code == "SQLITE_UNKNOWN"),
        "{err:?}"
    );
    let left = f
        .sql("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'")
        .await;
    assert_eq!(left["rows"][0][0]["value"], "0");
    // A protocol error is HTTP 400 with sqld's text.
    let bad = libsql_hrana::proto::Batch {
        steps: vec![libsql_hrana::proto::BatchStep {
            condition: Some(libsql_hrana::proto::BatchCond::Ok { step: 3 }),
            stmt: libsql_hrana::proto::Stmt::new("SELECT 1", true),
        }],
        replication_index: None,
    };
    let err = client.raw_batch(bad).await.expect_err("bad condition");
    assert_eq!(
        err,
        SqlError::Http {
            status: 400,
            body: "Invalid reference to step in a batch condition".into()
        }
    );
}
