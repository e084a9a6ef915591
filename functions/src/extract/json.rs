//! JSON bodies, with the path of the offending field in the error.

use crate::http::Request;
use serde::de::DeserializeOwned;
use shared::error::Error;

/// The largest JSON body we read (seat maps are the biggest legitimate bodies).
pub const MAX_JSON_BYTES: usize = 1024 * 1024;

/// Parses the body as `T` (at most [`MAX_JSON_BYTES`]).
///
/// # Errors
/// 413 `BODY_TOO_LARGE`; 400 `VALIDATION_FAILED` naming the field (`body` for the whole).
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, Error> {
    json_body_with_limit(request, MAX_JSON_BYTES)
}

/// Parses the body as `T`, allowing up to `max_bytes` (for the few bulk routes).
///
/// # Errors
/// As [`json_body`].
pub fn json_body_with_limit<T: DeserializeOwned>(
    request: &Request,
    max_bytes: usize,
) -> Result<T, Error> {
    if request.body.len() > max_bytes {
        return Err(Error::Client {
            status: 413,
            code: "BODY_TOO_LARGE",
            message: format!("this body is limited to {max_bytes} bytes"),
        });
    }
    if request.body.is_empty() {
        return Err(Error::invalid("body", "a JSON body is required"));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&request.body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        // serde_path_to_error says `.` for the root and `?` when the JSON ends early.
        let field = if path == "." || path == "?" {
            "body".to_owned()
        } else {
            path
        };
        Error::invalid(field, e.into_inner().to_string())
    })?;
    deserializer
        .end()
        .map_err(|_| Error::invalid("body", "trailing characters after the JSON value"))?;
    Ok(value)
}

/// Like [`json_body`], but an empty body is `T::default()` (for routes whose fields are all
/// optional).
///
/// # Errors
/// As [`json_body`].
pub fn json_body_or_empty<T: DeserializeOwned + Default>(request: &Request) -> Result<T, Error> {
    if request.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    json_body(request)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        #[allow(dead_code)]
        items: Vec<Item>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Item {
        #[allow(dead_code)]
        n: u32,
    }

    fn with_body(body: &str) -> Request {
        let mut request = Request::new("POST", "/");
        request.body = body.as_bytes().to_vec();
        request
    }

    #[test]
    fn names_the_failing_field() {
        let err =
            json_body::<Body>(&with_body(r#"{"items":[{"n":1},{"n":-1}]}"#)).expect_err("invalid");
        assert!(
            matches!(&err, Error::Invalid { field, .. } if field == "items[1].n"),
            "{err:?}"
        );
        let err = json_body::<Body>(&with_body("{")).expect_err("invalid");
        assert!(
            matches!(&err, Error::Invalid { field, .. } if field == "body"),
            "{err:?}"
        );
        let err = json_body::<Body>(&with_body("")).expect_err("empty");
        assert!(matches!(&err, Error::Invalid { field, .. } if field == "body"));
        assert!(json_body::<Body>(&with_body(r#"{"items":[]} x"#)).is_err());
        assert!(json_body::<Body>(&with_body(r#"{"items":[{"n":1}]}"#)).is_ok());
    }
}
