//! Redis replies as the JSON Upstash answers, plain or `Upstash-Encoding: base64`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use redis::{RedisError, Value};
use serde_json::Value as Json_;

use super::command::error_text;

/// Encode a reply as Upstash does. `top` marks the outermost value: only there
/// is the simple string `OK` left as is in base64 mode (clients compare it
/// literally; nested strings are always decoded by them).
pub(super) fn encode(v: Value, b64: bool, top: bool) -> Json_ {
    let text = |bytes: &[u8]| -> Json_ {
        if b64 {
            Json_::String(B64.encode(bytes))
        } else {
            Json_::String(String::from_utf8_lossy(bytes).into_owned())
        }
    };
    match v {
        Value::Nil => Json_::Null,
        Value::Int(i) => Json_::from(i),
        Value::BulkString(bytes) => text(&bytes),
        Value::SimpleString(s) => text(s.as_bytes()),
        Value::Okay if top => Json_::String("OK".into()),
        Value::Okay => text(b"OK"),
        Value::Array(items) | Value::Set(items) => {
            Json_::Array(items.into_iter().map(|i| encode(i, b64, false)).collect())
        }
        Value::Push { data, .. } => {
            Json_::Array(data.into_iter().map(|i| encode(i, b64, false)).collect())
        }
        Value::Map(pairs) => Json_::Array(
            pairs
                .into_iter()
                .flat_map(|(k, v)| [encode(k, b64, false), encode(v, b64, false)])
                .collect(),
        ),
        Value::Attribute { data, .. } => encode(*data, b64, top),
        Value::Double(f) => serde_json::Number::from_f64(f)
            .map_or_else(|| text(f.to_string().as_bytes()), Json_::Number),
        Value::Boolean(b) => Json_::from(i64::from(b)),
        Value::VerbatimString { text: t, .. } => text(t.as_bytes()),
        Value::BigNumber(n) => text(n.to_string().as_bytes()),
        Value::ServerError(e) => Json_::String(error_text(&RedisError::from(e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn encodes_plain_and_base64() {
        let v = Value::Array(vec![
            Value::BulkString(b"caf\xc3\xa9".to_vec()),
            Value::Int(3),
            Value::Nil,
            Value::Okay,
        ]);
        assert_eq!(
            encode(v.clone(), false, true),
            json!(["café", 3, null, "OK"])
        );
        assert_eq!(encode(v, true, true), json!(["Y2Fmw6k=", 3, null, "T0s="]));
        assert_eq!(encode(Value::Okay, true, true), json!("OK"));
        assert_eq!(
            encode(Value::BulkString(vec![0xff, 0x00]), true, true),
            json!("/wA=")
        );
        assert_eq!(encode(Value::Double(1.5), true, true), json!(1.5));
    }
}
