//! Decoding of Upstash REST replies into [`Value`]s.

use crate::redis::{RedisError, Value};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::Value as Json;

/// Decodes one `result` JSON value. With `base64` every string except the simple string `OK`
/// is base64 of the raw bytes (the convention `@upstash/redis` also decodes).
///
/// # Errors
/// [`RedisError::Decode`] for JSON that no Redis reply maps to.
pub fn decode_result(json: &Json, base64: bool) -> Result<Value, RedisError> {
    Ok(match json {
        Json::Null => Value::Nil,
        Json::Bool(b) => Value::Int(i64::from(*b)),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            // Doubles (RESP3) travel as JSON numbers; keep their text like RESP2 would.
            None => Value::Bytes(n.to_string().into_bytes()),
        },
        Json::String(s) if base64 && s != "OK" => Value::Bytes(
            STANDARD
                .decode(s)
                .map_err(|e| RedisError::Decode(format!("bad base64 in reply: {e}")))?,
        ),
        Json::String(s) => Value::Bytes(s.clone().into_bytes()),
        Json::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| decode_result(item, base64))
                .collect::<Result<_, _>>()?,
        ),
        Json::Object(_) => return Err(RedisError::Decode("unexpected object in reply".into())),
    })
}

/// Decodes one `{"result": …}` / `{"error": "…"}` object.
///
/// # Errors
/// [`RedisError::Server`] / [`RedisError::NoScript`] for error replies, [`RedisError::Decode`]
/// for anything else.
pub fn decode_reply(json: &Json, base64: bool) -> Result<Value, RedisError> {
    let Json::Object(map) = json else {
        return Err(RedisError::Decode(format!(
            "expected an object, got {json}"
        )));
    };
    if let Some(error) = map.get("error") {
        let message = error.as_str().unwrap_or("unknown error").to_owned();
        return Err(server_error(message));
    }
    match map.get("result") {
        Some(result) => decode_result(result, base64),
        None => Err(RedisError::Decode(
            "reply has neither result nor error".into(),
        )),
    }
}

/// Classifies an error reply once, here, so callers match variants instead of strings.
pub(crate) fn server_error(message: String) -> RedisError {
    if message.starts_with("NOSCRIPT") {
        RedisError::NoScript
    } else {
        RedisError::Server(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn decodes_plain_replies() {
        assert_eq!(
            decode_reply(&json!({"result": "OK"}), false),
            Ok(Value::Bytes(b"OK".to_vec()))
        );
        assert_eq!(
            decode_reply(&json!({"result": 3}), false),
            Ok(Value::Int(3))
        );
        assert_eq!(
            decode_reply(&json!({"result": null}), false),
            Ok(Value::Nil)
        );
        assert_eq!(
            decode_reply(&json!({"result": ["a", null, 2, ["b"]]}), false),
            Ok(Value::Array(vec![
                Value::Bytes(b"a".to_vec()),
                Value::Nil,
                Value::Int(2),
                Value::Array(vec![Value::Bytes(b"b".to_vec())]),
            ]))
        );
    }

    #[test]
    fn decodes_base64_replies_but_keeps_ok() {
        assert_eq!(
            decode_reply(&json!({"result": "OK"}), true),
            Ok(Value::Bytes(b"OK".to_vec()))
        );
        assert_eq!(
            decode_reply(&json!({"result": "aGVsbG8="}), true),
            Ok(Value::Bytes(b"hello".to_vec()))
        );
        assert_eq!(
            decode_reply(&json!({"result": ["/w==", 1]}), true),
            Ok(Value::Array(vec![Value::Bytes(vec![0xff]), Value::Int(1)]))
        );
        assert!(matches!(
            decode_reply(&json!({"result": "%%"}), true),
            Err(RedisError::Decode(_))
        ));
    }

    #[test]
    fn classifies_errors() {
        assert_eq!(
            decode_reply(
                &json!({"error": "NOSCRIPT No matching script. Please use EVAL."}),
                false
            ),
            Err(RedisError::NoScript)
        );
        assert_eq!(
            decode_reply(
                &json!({"error": "WRONGTYPE Operation against a key"}),
                false
            ),
            Err(RedisError::Server(
                "WRONGTYPE Operation against a key".into()
            ))
        );
        assert!(matches!(
            decode_reply(&json!({"x": 1}), false),
            Err(RedisError::Decode(_))
        ));
        assert!(matches!(
            decode_reply(&json!([1]), false),
            Err(RedisError::Decode(_))
        ));
    }
}
