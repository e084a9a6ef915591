//! The cost counters of the local fronts (`GET /__stats`, `POST /__stats/reset`), counted
//! exactly against a real `redis-server` and the embedded libSQL engine.
//!
//! Each test starts its own redis-server (installed by `scripts/setup.sh`) and its own fronts
//! on free loopback ports, so the tests run in parallel without sharing counters.

mod support;

use ops::front::{
    FrontConfig, HranaConfig, HranaCosts, RunningFronts, UpstashConfig, UpstashCosts,
};
use serde_json::{Value, json};
use support::Redis;

const REDIS_TOKEN: &str = "costs-redis-token";
const SQL_TOKEN: &str = "costs-sql-token";

/// Both fronts over a fresh Redis and a throw-away database.
struct Fronts {
    upstash: String,
    hrana: String,
    http: reqwest::Client,
    _fronts: RunningFronts,
    _redis: Redis,
}

impl Fronts {
    async fn start() -> Fronts {
        let redis = Redis::start().await;
        let fronts = ops::front::serve(FrontConfig {
            upstash: Some(UpstashConfig::new(redis.url(), REDIS_TOKEN)),
            hrana: Some(HranaConfig::new(":memory:", SQL_TOKEN)),
        })
        .await
        .expect("the fronts start");
        Fronts {
            upstash: fronts.upstash_url().expect("upstash front"),
            hrana: fronts.hrana_url().expect("hrana front"),
            http: reqwest::Client::new(),
            _fronts: fronts,
            _redis: redis,
        }
    }

    /// `POST {base}{path}` with a JSON body and a bearer token: status and JSON body.
    async fn post(&self, base: &str, path: &str, token: &str, body: Value) -> (u16, Value) {
        let response = self
            .http
            .post(format!("{base}{path}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// `GET {base}{path}` with a bearer token: status and JSON body.
    async fn get(&self, base: &str, path: &str, token: &str) -> (u16, Value) {
        let response = self
            .http
            .get(format!("{base}{path}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent");
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// One Upstash command (`POST /`), expected to succeed.
    async fn redis(&self, command: Value) -> Value {
        let (status, body) = self.post(&self.upstash, "/", REDIS_TOKEN, command).await;
        assert_eq!(status, 200, "{body}");
        body["result"].clone()
    }

    async fn upstash_stats(&self) -> UpstashCosts {
        let (status, body) = self.get(&self.upstash, "/__stats", REDIS_TOKEN).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).expect("upstash stats")
    }

    async fn upstash_reset(&self) -> UpstashCosts {
        let (status, body) = self
            .post(&self.upstash, "/__stats/reset", REDIS_TOKEN, Value::Null)
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).expect("upstash stats")
    }

    /// One Hrana pipeline on a new stream, closed at the end; the results before `close`.
    async fn sql(&self, requests: Vec<Value>) -> Vec<Value> {
        let n = requests.len();
        let mut requests = requests;
        requests.push(json!({"type": "close"}));
        let (status, body) = self
            .post(
                &self.hrana,
                "/v2/pipeline",
                SQL_TOKEN,
                json!({"baton": null, "requests": requests}),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let results = body["results"].as_array().expect("results").clone();
        assert_eq!(results.len(), n + 1, "{body}");
        results.into_iter().take(n).collect()
    }

    async fn hrana_stats(&self) -> HranaCosts {
        let (status, body) = self.get(&self.hrana, "/__stats", SQL_TOKEN).await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).expect("hrana stats")
    }

    async fn hrana_reset(&self) -> HranaCosts {
        let (status, body) = self
            .post(&self.hrana, "/__stats/reset", SQL_TOKEN, Value::Null)
            .await;
        assert_eq!(status, 200, "{body}");
        serde_json::from_value(body).expect("hrana stats")
    }
}

fn execute(sql: &str) -> Value {
    json!({"type": "execute", "stmt": {"sql": sql}})
}

/// The statement result of an `execute` in a pipeline's results.
fn stmt_result(result: &Value) -> &Value {
    assert_eq!(result["type"], "ok", "{result}");
    &result["response"]["result"]
}

fn upstash(requests: u64, commands: u64) -> UpstashCosts {
    UpstashCosts { requests, commands }
}

#[tokio::test(flavor = "multi_thread")]
async fn upstash_single_commands_cost_one_each_in_both_forms() {
    let f = Fronts::start().await;
    assert_eq!(f.upstash_stats().await, UpstashCosts::default());

    assert_eq!(f.redis(json!(["SET", "k", "v"])).await, "OK");
    assert_eq!(f.upstash_stats().await, upstash(1, 1));

    // The path form is the same command endpoint.
    let (status, body) = f.get(&f.upstash, "/get/k", REDIS_TOKEN).await;
    assert_eq!((status, &body["result"]), (200, &json!("v")));
    assert_eq!(f.upstash_stats().await, upstash(2, 2));

    // A Redis error reply was still a command Redis ran (EVALSHA → NOSCRIPT is billed, and
    // the client's EVAL fallback is a second command).
    let (status, _) = f
        .post(
            &f.upstash,
            "/",
            REDIS_TOKEN,
            json!(["EVALSHA", "0".repeat(40), 0]),
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(f.upstash_stats().await, upstash(3, 3));

    // A command the front refuses never reaches Redis: a request, no command.
    let (status, _) = f
        .post(&f.upstash, "/", REDIS_TOKEN, json!(["BLPOP", "q", 0]))
        .await;
    assert_eq!(status, 400);
    assert_eq!(f.upstash_stats().await, upstash(4, 3));
}

#[tokio::test(flavor = "multi_thread")]
async fn upstash_pipeline_of_three_costs_three_commands() {
    let f = Fronts::start().await;
    let (status, body) = f
        .post(
            &f.upstash,
            "/pipeline",
            REDIS_TOKEN,
            json!([["SET", "a", "1"], ["INCR", "a"], ["GET", "a"]]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[2]["result"], "2");
    assert_eq!(f.upstash_stats().await, upstash(1, 3));
}

#[tokio::test(flavor = "multi_thread")]
async fn upstash_multi_exec_of_two_costs_two_commands_without_its_wrapper() {
    let f = Fronts::start().await;
    let (status, body) = f
        .post(
            &f.upstash,
            "/multi-exec",
            REDIS_TOKEN,
            json!([["SET", "a", "1"], ["INCRBY", "a", "4"]]),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body[1]["result"], 5);
    assert_eq!(f.upstash_stats().await, upstash(1, 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn upstash_evalsha_costs_one_command_whatever_the_script_calls() {
    let f = Fronts::start().await;
    let script = "redis.call('SET', KEYS[1], ARGV[1]); \
                  redis.call('INCR', KEYS[1]); \
                  redis.call('EXPIRE', KEYS[1], 60); \
                  return redis.call('GET', KEYS[1])";
    let sha = f.redis(json!(["SCRIPT", "LOAD", script])).await;
    assert_eq!(f.upstash_reset().await, upstash(1, 1));

    let result = f.redis(json!(["EVALSHA", sha, 1, "counter", 41])).await;
    assert_eq!(result, "42");
    assert_eq!(f.upstash_stats().await, upstash(1, 1));

    let result = f.redis(json!(["EVAL", script, 1, "counter", 1])).await;
    assert_eq!(result, "2");
    assert_eq!(f.upstash_stats().await, upstash(2, 2));
}

#[tokio::test(flavor = "multi_thread")]
async fn upstash_unauthorized_requests_are_not_counted_and_stats_need_the_token() {
    let f = Fronts::start().await;
    let (status, _) = f
        .post(&f.upstash, "/", "wrong", json!(["SET", "k", "v"]))
        .await;
    assert_eq!(status, 401);
    let (status, _) = f
        .post(&f.upstash, "/pipeline", "wrong", json!([["GET", "k"]]))
        .await;
    assert_eq!(status, 401);
    let (status, _) = f.get(&f.upstash, "/get/k", "wrong").await;
    assert_eq!(status, 401);
    assert_eq!(f.get(&f.upstash, "/__stats", "wrong").await.0, 401);
    let (status, _) = f
        .post(&f.upstash, "/__stats/reset", "wrong", Value::Null)
        .await;
    assert_eq!(status, 401);
    // Upstash's `_token` query parameter works here as on every other endpoint.
    let (status, body) = f
        .get(&f.upstash, &format!("/__stats?_token={REDIS_TOKEN}"), "")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(f.upstash_stats().await, UpstashCosts::default());
}

#[tokio::test(flavor = "multi_thread")]
async fn upstash_reset_answers_the_counts_before_it_and_zeroes_them() {
    let f = Fronts::start().await;
    f.redis(json!(["SET", "k", "v"])).await;
    f.redis(json!(["GET", "k"])).await;
    // Reading the counts does not count.
    assert_eq!(f.upstash_stats().await, upstash(2, 2));
    assert_eq!(f.upstash_stats().await, upstash(2, 2));
    assert_eq!(f.upstash_reset().await, upstash(2, 2));
    assert_eq!(f.upstash_stats().await, UpstashCosts::default());
    assert_eq!(f.upstash_reset().await, UpstashCosts::default());
    f.redis(json!(["GET", "k"])).await;
    assert_eq!(f.upstash_stats().await, upstash(1, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn hrana_execute_costs_one_statement() {
    let f = Fronts::start().await;
    assert_eq!(f.hrana_stats().await, HranaCosts::default());
    let results = f.sql(vec![execute("SELECT 1")]).await;
    assert_eq!(stmt_result(&results[0])["rows"][0][0]["value"], "1");
    let costs = f.hrana_stats().await;
    assert_eq!((costs.requests, costs.statements), (1, 1));

    // A statement that does not prepare never ran: a request, no statement.
    let results = f.sql(vec![execute("SELEC 1")]).await;
    assert_eq!(results[0]["type"], "error");
    let costs = f.hrana_stats().await;
    assert_eq!((costs.requests, costs.statements), (2, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn hrana_batch_costs_one_statement_per_step_that_ran() {
    let f = Fronts::start().await;
    f.sql(vec![execute("CREATE TABLE t (id INTEGER PRIMARY KEY)")])
        .await;
    f.hrana_reset().await;

    // The atomic shape our adapter sends: BEGIN, two writes each on the step before, COMMIT
    // if the last write went through, else ROLLBACK (skipped here).
    let step = |sql: &str, condition: Value| json!({"stmt": {"sql": sql}, "condition": condition});
    let batch = json!({"type": "batch", "batch": {"steps": [
        step("BEGIN IMMEDIATE", Value::Null),
        step("INSERT INTO t VALUES (1)", json!({"type": "ok", "step": 0})),
        step("INSERT INTO t VALUES (2)", json!({"type": "ok", "step": 1})),
        step("COMMIT", json!({"type": "ok", "step": 2})),
        step("ROLLBACK", json!({"type": "not", "cond": {"type": "ok", "step": 3}})),
    ]}});
    let results = f.sql(vec![batch]).await;
    let steps = &results[0]["response"]["result"]["step_results"];
    assert!(steps[3].is_object() && steps[4].is_null(), "{steps}");
    let costs = f.hrana_stats().await;
    assert_eq!((costs.requests, costs.statements), (1, 4));
    assert_eq!(costs.rows_written, 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn hrana_rows_are_the_engines_figures() {
    const K: u64 = 7;
    const M: u64 = 3;
    let f = Fronts::start().await;
    f.sql(vec![
        execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"),
        execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 7) \
             INSERT INTO t SELECT i, 'x' FROM n",
        ),
    ])
    .await;
    f.hrana_reset().await;

    // A scan reads every row of the table, whatever it returns.
    let results = f
        .sql(vec![execute("SELECT count(*) FROM t WHERE v = 'y'")])
        .await;
    let read = stmt_result(&results[0]);
    assert_eq!(read["rows"][0][0]["value"], "0");
    assert_eq!(
        (read["rows_read"].as_u64(), read["rows_written"].as_u64()),
        (Some(K), Some(0))
    );
    let costs = f.hrana_reset().await;
    assert_eq!(
        costs,
        HranaCosts {
            requests: 1,
            statements: 1,
            rows_read: K,
            rows_written: 0
        }
    );

    // An INSERT of M rows writes M rows.
    let results = f
        .sql(vec![execute(
            "INSERT INTO t (v) VALUES ('a'), ('b'), ('c')",
        )])
        .await;
    let write = stmt_result(&results[0]);
    assert_eq!(write["affected_row_count"], M);
    assert_eq!(write["rows_written"].as_u64(), Some(M));
    let costs = f.hrana_stats().await;
    assert_eq!((costs.requests, costs.statements), (1, 1));
    assert_eq!(costs.rows_written, M);
    assert_eq!(
        costs.rows_read,
        write["rows_read"].as_u64().unwrap_or(u64::MAX)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hrana_sequence_costs_each_statement_of_its_script() {
    let f = Fronts::start().await;
    // DDL writes rows of `sqlite_schema`, which the engine counts too: keep it out of the
    // script so the rows written are exactly the two inserted.
    f.sql(vec![execute("CREATE TABLE s (id INTEGER PRIMARY KEY)")])
        .await;
    f.hrana_reset().await;
    let script = "INSERT INTO s VALUES (1); SELECT * FROM s; INSERT INTO s VALUES (2);";
    let results = f
        .sql(vec![json!({"type": "sequence", "sql": script})])
        .await;
    assert_eq!(results[0]["type"], "ok", "{results:?}");
    let costs = f.hrana_stats().await;
    assert_eq!(
        (costs.requests, costs.statements, costs.rows_written),
        (1, 3, 2)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hrana_unauthorized_requests_are_not_counted_and_reset_zeroes() {
    let f = Fronts::start().await;
    let pipeline = json!({"baton": null, "requests": [
        {"type": "execute", "stmt": {"sql": "SELECT 1"}}, {"type": "close"}
    ]});
    let (status, _) = f.post(&f.hrana, "/v2/pipeline", "wrong", pipeline).await;
    assert_eq!(status, 401);
    assert_eq!(f.get(&f.hrana, "/__stats", "wrong").await.0, 401);
    let (status, _) = f
        .post(&f.hrana, "/__stats/reset", "wrong", Value::Null)
        .await;
    assert_eq!(status, 401);
    assert_eq!(f.hrana_stats().await, HranaCosts::default());

    f.sql(vec![execute("SELECT 1"), execute("SELECT 2")]).await;
    // Reading the counts does not count.
    let before = f.hrana_stats().await;
    assert_eq!(f.hrana_stats().await, before);
    assert_eq!((before.requests, before.statements), (1, 2), "{before:?}");
    assert_eq!(f.hrana_reset().await, before);
    assert_eq!(f.hrana_stats().await, HranaCosts::default());
    assert_eq!(f.hrana_reset().await, HranaCosts::default());
}
