//! The Upstash REST client.

use super::response::{decode_reply, server_error};
use crate::http::{HttpRequest, HttpResponse};
use crate::ports::HttpClient;
use crate::redis::{Command, Redis, RedisError, Replies, Value};
use serde_json::Value as Json;

/// Talks to an Upstash-compatible REST endpoint (Upstash itself, or the local front).
#[derive(Debug, Clone)]
pub struct UpstashClient<H> {
    http: H,
    base_url: String,
    token: String,
    base64: bool,
}

impl<H: HttpClient> UpstashClient<H> {
    /// A client for `base_url` (e.g. `https://eu1-x.upstash.io`) with its REST token. It asks
    /// for base64-encoded replies, so binary values survive.
    pub fn new(http: H, base_url: &str, token: &str) -> Self {
        UpstashClient {
            http,
            base_url: base_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            base64: true,
        }
    }

    /// Asks for plain JSON replies instead (smaller for text-only workloads; values that are
    /// not UTF-8 cannot be represented).
    pub fn plain_json(mut self) -> Self {
        self.base64 = false;
        self
    }

    async fn post(
        &self,
        path: &str,
        body: &impl serde::Serialize,
    ) -> Result<HttpResponse, RedisError> {
        let mut request =
            HttpRequest::post_json(format!("{}{path}", self.base_url), body).bearer(&self.token);
        if self.base64 {
            request = request.header("upstash-encoding", "base64");
        }
        let response = self.http.send(request).await?;
        match response.status {
            200 | 400 => Ok(response),
            401 | 403 => Err(RedisError::Unauthorized {
                status: response.status,
            }),
            status => Err(RedisError::Http {
                status,
                body: response.body_snippet(200),
            }),
        }
    }

    async fn post_many(&self, path: &str, commands: &[Command]) -> Result<Replies, RedisError> {
        let body: Vec<&[String]> = commands.iter().map(Command::parts).collect();
        let response = self.post(path, &body).await?;
        let json: Json = parse_json(&response)?;
        match json {
            Json::Array(items) => {
                if items.len() != commands.len() {
                    return Err(RedisError::Decode(format!(
                        "{} replies for {} commands",
                        items.len(),
                        commands.len()
                    )));
                }
                Ok(items
                    .iter()
                    .map(|item| decode_reply(item, self.base64))
                    .collect())
            }
            // A transaction aborted as a whole (EXECABORT) comes back as one error object.
            Json::Object(_) => match decode_reply(&json, self.base64) {
                Err(e) => Err(e),
                Ok(_) => Err(RedisError::Decode("expected an array of replies".into())),
            },
            other => Err(RedisError::Decode(format!(
                "expected an array, got {other}"
            ))),
        }
    }
}

fn parse_json(response: &HttpResponse) -> Result<Json, RedisError> {
    serde_json::from_slice(&response.body).map_err(|e| {
        RedisError::Decode(format!(
            "HTTP {} body is not JSON ({e}): {}",
            response.status,
            response.body_snippet(200)
        ))
    })
}

impl<H: HttpClient> Redis for UpstashClient<H> {
    async fn exec(&self, command: Command) -> Result<Value, RedisError> {
        let response = self.post("/", &command.parts()).await?;
        let json = parse_json(&response)?;
        if response.status == 400 && json.get("error").is_none() {
            return Err(server_error(response.body_snippet(200)));
        }
        decode_reply(&json, self.base64)
    }

    async fn pipeline(&self, commands: Vec<Command>) -> Result<Replies, RedisError> {
        self.post_many("/pipeline", &commands).await
    }

    async fn multi_exec(&self, commands: Vec<Command>) -> Result<Replies, RedisError> {
        self.post_many("/multi-exec", &commands).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redis::Script;
    use crate::testing::{FakeHttp, block_on};
    use serde_json::json;

    fn client(http: &FakeHttp) -> UpstashClient<&FakeHttp> {
        UpstashClient::new(http, "http://redis.test/", "tok")
    }

    #[test]
    fn single_command_sends_bearer_base64_and_decodes() {
        let http = FakeHttp::new();
        http.reply_json(200, json!({"result": "dg=="}));
        let value = block_on(client(&http).exec(Command::new("GET").arg("k"))).expect("get");
        assert_eq!(value, Value::Bytes(b"v".to_vec()));
        let sent = http.sent();
        assert_eq!(sent[0].url, "http://redis.test/");
        assert_eq!(sent[0].headers.get("authorization"), Some("Bearer tok"));
        assert_eq!(sent[0].headers.get("upstash-encoding"), Some("base64"));
        assert_eq!(sent[0].body, br#"["GET","k"]"#);
    }

    #[test]
    fn plain_json_mode_sends_no_encoding_header_and_keeps_strings() {
        let http = FakeHttp::new();
        http.reply_json(200, json!({"result": "dg=="}));
        let client = client(&http).plain_json();
        let value = block_on(client.exec(Command::new("GET").arg("k"))).expect("get");
        assert_eq!(value, Value::Bytes(b"dg==".to_vec()));
        assert_eq!(http.sent()[0].headers.get("upstash-encoding"), None);
    }

    #[test]
    fn error_reply_is_a_server_error() {
        let http = FakeHttp::new();
        http.reply_json(400, json!({"error": "ERR wrong number of arguments"}));
        let err = block_on(client(&http).exec(Command::new("GET"))).expect_err("must fail");
        assert_eq!(
            err,
            RedisError::Server("ERR wrong number of arguments".into())
        );
    }

    #[test]
    fn auth_and_server_failures_are_classified() {
        let http = FakeHttp::new();
        http.reply_json(401, json!({"error": "Unauthorized"}));
        http.reply_json(502, json!({}));
        http.fail_transport();
        http.reply_raw(200, b"<html>");
        let c = client(&http);
        assert_eq!(
            block_on(c.ping()),
            Err(RedisError::Unauthorized { status: 401 })
        );
        let bad_gateway = block_on(c.ping()).expect_err("502");
        assert!(
            matches!(bad_gateway, RedisError::Http { status: 502, .. })
                && bad_gateway.is_unavailable()
        );
        assert!(matches!(block_on(c.ping()), Err(RedisError::Transport(_))));
        assert!(matches!(block_on(c.ping()), Err(RedisError::Decode(_))));
    }

    #[test]
    fn pipeline_keeps_per_command_errors() {
        let http = FakeHttp::new();
        http.reply_json(
            200,
            json!([{"result": "OK"}, {"error": "WRONGTYPE x"}, {"result": 2}]),
        );
        let replies = block_on(client(&http).pipeline(vec![
            Command::new("SET").arg("a").arg(1),
            Command::new("LPUSH").arg("a").arg(1),
            Command::new("INCR").arg("b"),
        ]))
        .expect("pipeline");
        assert_eq!(replies[0], Ok(Value::Bytes(b"OK".to_vec())));
        assert_eq!(replies[1], Err(RedisError::Server("WRONGTYPE x".into())));
        assert_eq!(replies[2], Ok(Value::Int(2)));
        assert_eq!(http.sent()[0].url, "http://redis.test/pipeline");
        assert_eq!(
            http.sent()[0].body,
            br#"[["SET","a","1"],["LPUSH","a","1"],["INCR","b"]]"#
        );
    }

    #[test]
    fn multi_exec_abort_is_an_error() {
        let http = FakeHttp::new();
        http.reply_json(400, json!({"error": "EXECABORT Transaction discarded"}));
        let err =
            block_on(client(&http).multi_exec(vec![Command::new("NOPE")])).expect_err("abort");
        assert_eq!(
            err,
            RedisError::Server("EXECABORT Transaction discarded".into())
        );
        assert_eq!(http.sent()[0].url, "http://redis.test/multi-exec");
    }

    #[test]
    fn mismatched_reply_count_is_a_decode_error() {
        let http = FakeHttp::new();
        http.reply_json(200, json!([{"result": 1}]));
        let err = block_on(client(&http).pipeline(vec![Command::new("A"), Command::new("B")]))
            .expect_err("count");
        assert!(matches!(err, RedisError::Decode(_)));
    }

    #[test]
    fn eval_uses_evalsha_then_falls_back_to_eval_on_noscript() {
        let http = FakeHttp::new();
        http.reply_json(
            400,
            json!({"error": "NOSCRIPT No matching script. Please use EVAL."}),
        );
        http.reply_json(200, json!({"result": 42}));
        let script = Script::new("return tonumber(ARGV[1])");
        let value = block_on(client(&http).eval(&script, &["k1"], &["42"])).expect("eval");
        assert_eq!(value, Value::Int(42));
        let sent = http.sent();
        let first: Vec<String> = serde_json::from_slice(&sent[0].body).expect("json");
        let second: Vec<String> = serde_json::from_slice(&sent[1].body).expect("json");
        assert_eq!(first, ["EVALSHA", script.sha1(), "1", "k1", "42"]);
        assert_eq!(second, ["EVAL", script.source(), "1", "k1", "42"]);
    }

    #[test]
    fn eval_does_not_resend_when_the_script_is_cached() {
        let http = FakeHttp::new();
        http.reply_json(200, json!({"result": 1}));
        let script = Script::new("return 1");
        assert_eq!(
            block_on(client(&http).eval(&script, &[], &[])),
            Ok(Value::Int(1))
        );
        assert_eq!(http.sent().len(), 1);
    }
}
