//! The Hrana-over-HTTP client.

use super::convert::{from_proto_result, to_proto_stmt};
use crate::http::HttpRequest;
use crate::ports::HttpClient;
use crate::sql::{Rows, Sql, SqlError, Statement};
use libsql_hrana::proto::{
    Batch, BatchCond, BatchStep, BatchStreamReq, CloseStreamReq, ExecuteStreamReq, PipelineReqBody,
    PipelineRespBody, Stmt, StreamRequest, StreamResponse, StreamResult,
};

/// Talks to a Hrana-over-HTTP endpoint (Turso, `sqld`, or the local front).
#[derive(Debug, Clone)]
pub struct HranaClient<H> {
    http: H,
    pipeline_url: String,
    auth_token: Option<String>,
}

impl<H: HttpClient> HranaClient<H> {
    /// A client for a database URL. `libsql://` URLs (as Turso prints them) mean HTTPS.
    pub fn new(http: H, url: &str, auth_token: Option<&str>) -> Self {
        let url = url.trim_end_matches('/');
        let base = match url.strip_prefix("libsql://") {
            Some(host) => format!("https://{host}"),
            None => url.to_owned(),
        };
        HranaClient {
            http,
            pipeline_url: format!("{base}/v2/pipeline"),
            auth_token: auth_token.filter(|t| !t.is_empty()).map(str::to_owned),
        }
    }

    /// Sends one stateless pipeline (the request list plus `close`) and returns the results of
    /// `requests`, in order.
    async fn pipeline(&self, requests: Vec<StreamRequest>) -> Result<Vec<StreamResult>, SqlError> {
        let expected = requests.len();
        let mut requests = requests;
        requests.push(StreamRequest::Close(CloseStreamReq {}));
        let body = PipelineReqBody {
            baton: None,
            requests,
        };
        let mut request = HttpRequest::post_json(&self.pipeline_url, &body);
        if let Some(token) = &self.auth_token {
            request = request.bearer(token);
        }
        let response = self.http.send(request).await?;
        match response.status {
            200 => {}
            401 | 403 => {
                return Err(SqlError::Unauthorized {
                    status: response.status,
                });
            }
            // `sqld` answers a protocol error (a request it cannot read, a bad baton, a batch
            // condition on a later step) with HTTP 400 and the reason as plain text, for the
            // whole pipeline: no result of it is returned.
            status => {
                return Err(SqlError::Http {
                    status,
                    body: response.body_snippet(300).trim().to_owned(),
                });
            }
        }
        let body: PipelineRespBody = serde_json::from_slice(&response.body)
            .map_err(|e| SqlError::Decode(format!("pipeline response: {e}")))?;
        let mut results = body.results;
        if results.len() < expected {
            return Err(SqlError::Decode(format!(
                "{} results for {expected} requests",
                results.len()
            )));
        }
        results.truncate(expected);
        Ok(results)
    }

    /// Runs a raw protocol batch (for callers that need their own step conditions).
    ///
    /// # Errors
    /// When the request fails as a whole; step errors are inside the returned result.
    pub async fn raw_batch(
        &self,
        batch: Batch,
    ) -> Result<libsql_hrana::proto::BatchResult, SqlError> {
        let results = self
            .pipeline(vec![StreamRequest::Batch(BatchStreamReq { batch })])
            .await?;
        match single(results)? {
            StreamResponse::Batch(resp) => Ok(resp.result),
            other => Err(unexpected(&other)),
        }
    }
}

fn single(results: Vec<StreamResult>) -> Result<StreamResponse, SqlError> {
    match results.into_iter().next() {
        Some(StreamResult::Ok { response }) => Ok(response),
        Some(StreamResult::Error { error }) => Err(SqlError::Statement {
            index: None,
            message: error.message,
            code: error.code,
        }),
        Some(StreamResult::None) | None => Err(SqlError::Decode("missing result".into())),
    }
}

fn unexpected(response: &StreamResponse) -> SqlError {
    SqlError::Decode(format!("unexpected response {response:?}"))
}

/// BEGIN; s1 if BEGIN ok; s2 if s1 ok; …; COMMIT if last ok; ROLLBACK unless COMMIT ok.
fn atomic_batch(statements: &[Statement]) -> Batch {
    let step = |stmt: Stmt, condition: Option<BatchCond>| BatchStep { condition, stmt };
    let n = statements.len() as u32;
    let mut steps = vec![step(Stmt::new("BEGIN IMMEDIATE", false), None)];
    for (i, statement) in statements.iter().enumerate() {
        steps.push(step(
            to_proto_stmt(statement),
            Some(BatchCond::Ok { step: i as u32 }),
        ));
    }
    steps.push(step(
        Stmt::new("COMMIT", false),
        Some(BatchCond::Ok { step: n }),
    ));
    steps.push(step(
        Stmt::new("ROLLBACK", false),
        Some(BatchCond::Not {
            cond: Box::new(BatchCond::Ok { step: n + 1 }),
        }),
    ));
    Batch {
        steps,
        replication_index: None,
    }
}

impl<H: HttpClient> Sql for HranaClient<H> {
    async fn execute(&self, statement: Statement) -> Result<Rows, SqlError> {
        let request = StreamRequest::Execute(ExecuteStreamReq {
            stmt: to_proto_stmt(&statement),
        });
        match single(self.pipeline(vec![request]).await?)? {
            StreamResponse::Execute(resp) => from_proto_result(&resp.result),
            other => Err(unexpected(&other)),
        }
    }

    async fn execute_many(
        &self,
        statements: Vec<Statement>,
    ) -> Result<Vec<Result<Rows, SqlError>>, SqlError> {
        let requests = statements
            .iter()
            .map(|statement| {
                StreamRequest::Execute(ExecuteStreamReq {
                    stmt: to_proto_stmt(statement),
                })
            })
            .collect();
        Ok(self
            .pipeline(requests)
            .await?
            .into_iter()
            .map(|result| match single(vec![result])? {
                StreamResponse::Execute(resp) => from_proto_result(&resp.result),
                other => Err(unexpected(&other)),
            })
            .collect())
    }

    async fn batch_atomic(&self, statements: Vec<Statement>) -> Result<Vec<Rows>, SqlError> {
        let n = statements.len();
        let result = self.raw_batch(atomic_batch(&statements)).await?;
        // Step 0 is BEGIN, steps 1..=n the statements, n+1 COMMIT, n+2 ROLLBACK.
        if let Some((step, error)) = result
            .step_errors
            .iter()
            .enumerate()
            .take(n + 2)
            .find_map(|(i, e)| e.as_ref().map(|e| (i, e)))
        {
            let index = (1..=n).contains(&step).then(|| step - 1);
            let message = match step {
                0 => format!("BEGIN failed: {}", error.message),
                s if s == n + 1 => format!("COMMIT failed: {}", error.message),
                _ => error.message.clone(),
            };
            return Err(SqlError::Statement {
                index,
                message,
                code: error.code.clone(),
            });
        }
        let committed = matches!(result.step_results.get(n + 1), Some(Some(_)));
        if !committed {
            return Err(SqlError::Decode("batch was not committed".into()));
        }
        result.step_results[1..=n]
            .iter()
            .map(|r| match r {
                Some(r) => from_proto_result(r),
                None => Err(SqlError::Decode(
                    "statement skipped without an error".into(),
                )),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::SqlValue;
    use crate::testing::{FakeHttp, block_on};
    use serde_json::json;

    fn ok_stmt_result(rows: serde_json::Value) -> serde_json::Value {
        json!({"cols":[{"name":"a","decltype":null},{"name":"b","decltype":null}],"rows":rows,
               "affected_row_count":0,"last_insert_rowid":null,"rows_read":1,"rows_written":0,"query_duration_ms":0.1})
    }

    #[test]
    fn libsql_urls_mean_https_and_token_is_optional() {
        let http = FakeHttp::new();
        http.reply_json(
            200,
            json!({"baton":null,"base_url":null,"results":[
            {"type":"ok","response":{"type":"execute","result": ok_stmt_result(json!([]))}},
            {"type":"ok","response":{"type":"close"}}]}),
        );
        let client = HranaClient::new(&http, "libsql://db-org.turso.io/", Some(""));
        block_on(client.execute(Statement::new("SELECT 1"))).expect("execute");
        let sent = http.sent();
        assert_eq!(sent[0].url, "https://db-org.turso.io/v2/pipeline");
        assert_eq!(sent[0].headers.get("authorization"), None);
    }

    #[test]
    fn execute_sends_typed_positional_and_named_args_and_decodes_rows() {
        let http = FakeHttp::new();
        http.reply_json(
            200,
            json!({"baton":null,"base_url":null,"results":[
            {"type":"ok","response":{"type":"execute","result": ok_stmt_result(json!([
                [{"type":"integer","value":"-5"},{"type":"text","value":"x"}],
                [{"type":"float","value":1.5},{"type":"blob","base64":"AP8="}],
                [{"type":"null"},{"type":"null"}]]))}},
            {"type":"ok","response":{"type":"close"}}]}),
        );
        let client = HranaClient::new(&http, "http://127.0.0.1:1", Some("t"));
        let rows = block_on(
            client.execute(
                Statement::new("SELECT ?, :b")
                    .bind(7_i64)
                    .bind(SqlValue::Blob(vec![1, 2]))
                    .bind_named(":b", "hi")
                    .bind(SqlValue::Null)
                    .bind(2.5_f64),
            ),
        )
        .expect("execute");
        assert_eq!(rows.columns, ["a", "b"]);
        assert_eq!(
            rows.rows[0],
            [SqlValue::Integer(-5), SqlValue::Text("x".into())]
        );
        assert_eq!(
            rows.rows[1],
            [SqlValue::Real(1.5), SqlValue::Blob(vec![0, 255])]
        );
        assert_eq!(rows.row(2).expect("row").get::<Option<i64>>("a"), Ok(None));
        assert_eq!(
            http.sent()[0].headers.get("authorization"),
            Some("Bearer t")
        );
        let body = http.sent_json(0);
        let stmt = &body["requests"][0]["stmt"];
        assert_eq!(stmt["sql"], "SELECT ?, :b");
        assert_eq!(stmt["args"][0], json!({"type":"integer","value":"7"}));
        assert_eq!(stmt["args"][1], json!({"type":"blob","base64":"AQI"}));
        assert_eq!(stmt["args"][2], json!({"type":"null"}));
        assert_eq!(stmt["args"][3], json!({"type":"float","value":2.5}));
        assert_eq!(
            stmt["named_args"][0],
            json!({"name":":b","value":{"type":"text","value":"hi"}})
        );
        assert_eq!(body["requests"][1], json!({"type":"close"}));
    }

    #[test]
    fn execute_error_is_a_statement_error() {
        let http = FakeHttp::new();
        http.reply_json(
            200,
            json!({"baton":null,"base_url":null,"results":[
            {"type":"error","error":{"message":"SQLite error: no such table: nope","code":"SQLITE_UNKNOWN"}},
            {"type":"ok","response":{"type":"close"}}]}),
        );
        let client = HranaClient::new(&http, "http://h", None);
        let err =
            block_on(client.execute(Statement::new("SELECT * FROM nope"))).expect_err("fails");
        assert_eq!(
            err,
            SqlError::Statement {
                index: None,
                message: "SQLite error: no such table: nope".into(),
                code: "SQLITE_UNKNOWN".into()
            }
        );
    }

    #[test]
    fn atomic_batch_is_conditioned_and_reports_the_failing_statement() {
        let http = FakeHttp::new();
        let r = ok_stmt_result(json!([]));
        http.reply_json(200, json!({"baton":null,"base_url":null,"results":[
            {"type":"ok","response":{"type":"batch","result":{
                "step_results":[r, r, null, null, null, r],
                "step_errors":[null, null, {"message":"SQLite error: UNIQUE constraint failed: t.id","code":"SQLITE_CONSTRAINT"}, null, null, null]}}},
            {"type":"ok","response":{"type":"close"}}]}));
        let client = HranaClient::new(&http, "http://h", None);
        let err = block_on(client.batch_atomic(vec![
            Statement::new("INSERT INTO t VALUES (1)"),
            Statement::new("INSERT INTO t VALUES (1)"),
            Statement::new("INSERT INTO t VALUES (2)"),
        ]))
        .expect_err("middle fails");
        assert!(err.is_unique_violation());
        assert!(matches!(err, SqlError::Statement { index: Some(1), .. }));
        let steps = &http.sent_json(0)["requests"][0]["batch"]["steps"];
        assert_eq!(steps[0]["stmt"]["sql"], "BEGIN IMMEDIATE");
        assert_eq!(steps[0]["condition"], json!(null));
        assert_eq!(steps[2]["condition"], json!({"type":"ok","step":1}));
        assert_eq!(steps[4]["stmt"]["sql"], "COMMIT");
        assert_eq!(steps[4]["condition"], json!({"type":"ok","step":3}));
        assert_eq!(steps[5]["stmt"]["sql"], "ROLLBACK");
        assert_eq!(
            steps[5]["condition"],
            json!({"type":"not","cond":{"type":"ok","step":4}})
        );
    }

    #[test]
    fn a_protocol_error_is_http_400_with_sqlds_text() {
        let http = FakeHttp::new();
        http.reply_raw(400, b"Invalid reference to step in a batch condition\n");
        let client = HranaClient::new(&http, "http://h", Some("t"));
        let err = block_on(client.execute(Statement::new("SELECT 1"))).expect_err("400");
        assert_eq!(
            err,
            SqlError::Http {
                status: 400,
                body: "Invalid reference to step in a batch condition".into()
            }
        );
    }

    #[test]
    fn last_insert_rowid_is_null_except_after_insert() {
        let http = FakeHttp::new();
        let mut update = ok_stmt_result(json!([]));
        update["affected_row_count"] = json!(2);
        let mut insert = ok_stmt_result(json!([]));
        insert["affected_row_count"] = json!(1);
        insert["last_insert_rowid"] = json!("7");
        http.reply_json(
            200,
            json!({"baton":null,"base_url":null,"results":[
            {"type":"ok","response":{"type":"execute","result": update}},
            {"type":"ok","response":{"type":"execute","result": insert}},
            {"type":"ok","response":{"type":"close"}}]}),
        );
        let client = HranaClient::new(&http, "http://h", None);
        let results = block_on(client.execute_many(vec![
            Statement::new("UPDATE t SET a = 1"),
            Statement::new("INSERT INTO t VALUES (1)"),
        ]))
        .expect("pipeline");
        let update = results[0].as_ref().expect("update");
        assert_eq!(
            (update.affected_row_count, update.last_insert_rowid),
            (2, None)
        );
        let insert = results[1].as_ref().expect("insert");
        assert_eq!(insert.last_insert_rowid, Some(7));
    }

    #[test]
    fn http_failures_are_classified() {
        let http = FakeHttp::new();
        http.reply_json(401, json!({"error":"bad token"}));
        http.reply_raw(503, b"down");
        http.fail_transport();
        http.reply_raw(200, b"not json");
        let client = HranaClient::new(&http, "http://h", Some("t"));
        let run = || block_on(client.execute(Statement::new("SELECT 1")));
        assert_eq!(run(), Err(SqlError::Unauthorized { status: 401 }));
        assert!(run().expect_err("503").is_unavailable());
        assert!(matches!(run(), Err(SqlError::Transport(_))));
        assert!(matches!(run(), Err(SqlError::Decode(_))));
    }
}
