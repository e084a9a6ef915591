//! The API error: one type every handler returns, mapped to HTTP status + `error_code` +
//! message in exactly one place ([`Error::status`], [`Error::code`], [`Error::body`]).

use crate::config::ConfigError;
use crate::http::Method;
use crate::redis::RedisError;
use crate::rpc::RpcError;
use crate::sql::SqlError;
use serde::Serialize;

/// Result with the API error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A dependency the API reaches over the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dependency {
    Redis,
    Libsql,
    Rpc,
    /// The platform's random number generator (`getrandom`): not a service, but a request that
    /// needs randomness cannot go on without it, so it fails like a dependency that is down.
    Rng,
}

impl Dependency {
    /// Lower-case name, as used in `/ready` and error codes.
    pub fn name(self) -> &'static str {
        match self {
            Dependency::Redis => "redis",
            Dependency::Libsql => "libsql",
            Dependency::Rpc => "rpc",
            Dependency::Rng => "rng",
        }
    }
}

/// What a request can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A client error with its own status (400, 401, 403, 404, 409, 422, …) and code.
    #[error("{code}: {message}")]
    Client {
        status: u16,
        code: &'static str,
        message: String,
    },
    /// Input that does not parse or breaks a rule; `field` names the offending field (a JSON
    /// path such as `seats[3].label`, or a query/path parameter).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The path exists but not for this method.
    #[error("method not allowed")]
    MethodNotAllowed { allowed: Vec<Method> },
    /// The same work is running already (409): retry after the given seconds, when it will
    /// have finished. Answered with `Retry-After`.
    #[error("{code}: {message}")]
    InFlight {
        code: &'static str,
        message: String,
        retry_after_secs: u64,
    },
    /// Too many requests; retry after the given seconds.
    #[error("rate limited")]
    RateLimited { retry_after_secs: u64 },
    /// A dependency is down; the request wrote nothing. Retry later.
    #[error("{} unavailable: {detail}", .dependency.name())]
    Unavailable {
        dependency: Dependency,
        detail: String,
    },
    /// The deployment is misconfigured.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A bug or an unexpected answer from a dependency. Logged; the client sees a generic body.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// 400 with a code.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Error::Client {
            status: 400,
            code,
            message: message.into(),
        }
    }

    /// 400 `VALIDATION_FAILED` naming the field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// 403 with a code.
    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Error::Client {
            status: 403,
            code,
            message: message.into(),
        }
    }

    /// 409 with a code.
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Error::Client {
            status: 409,
            code,
            message: message.into(),
        }
    }

    /// 422 with a code.
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> Self {
        Error::Client {
            status: 422,
            code,
            message: message.into(),
        }
    }

    /// 401 with a code.
    pub fn unauthorized(code: &'static str, message: impl Into<String>) -> Self {
        Error::Client {
            status: 401,
            code,
            message: message.into(),
        }
    }

    /// 404 with a code.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Error::Client {
            status: 404,
            code,
            message: message.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            Error::Client { status, .. } => *status,
            Error::Invalid { .. } => 400,
            Error::MethodNotAllowed { .. } => 405,
            Error::InFlight { .. } => 409,
            Error::RateLimited { .. } => 429,
            Error::Unavailable { .. } | Error::Config(_) => 503,
            Error::Internal(_) => 500,
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Client { code, .. } | Error::InFlight { code, .. } => code,
            Error::Invalid { .. } => "VALIDATION_FAILED",
            Error::MethodNotAllowed { .. } => "METHOD_NOT_ALLOWED",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::Unavailable {
                dependency: Dependency::Redis,
                ..
            } => "REDIS_UNAVAILABLE",
            Error::Unavailable {
                dependency: Dependency::Libsql,
                ..
            } => "LIBSQL_UNAVAILABLE",
            Error::Unavailable {
                dependency: Dependency::Rpc,
                ..
            } => "RPC_UNAVAILABLE",
            Error::Unavailable {
                dependency: Dependency::Rng,
                ..
            } => "RNG_UNAVAILABLE",
            Error::Config(_) => "CONFIG_INVALID",
            Error::Internal(_) => "INTERNAL",
        }
    }

    /// The message shown to the client. Internal details stay in the logs.
    pub fn public_message(&self) -> String {
        match self {
            Error::Client { message, .. } | Error::InFlight { message, .. } => message.clone(),
            Error::Invalid { field, message } => format!("{field}: {message}"),
            Error::MethodNotAllowed { allowed } => {
                let names: Vec<_> = allowed.iter().map(|m| m.as_str()).collect();
                format!("method not allowed; allowed: {}", names.join(", "))
            }
            Error::RateLimited { retry_after_secs } => {
                format!("too many requests; retry after {retry_after_secs} s")
            }
            Error::Unavailable { dependency, .. } => {
                format!(
                    "{} is unavailable; nothing was written, retry later",
                    dependency.name()
                )
            }
            Error::Config(e) => e.to_string(),
            Error::Internal(_) => "internal error".to_owned(),
        }
    }

    /// The JSON body for this error.
    pub fn body(&self, request_id: &str) -> ErrorBody {
        ErrorBody {
            error_code: self.code().to_owned(),
            message: self.public_message(),
            request_id: request_id.to_owned(),
            field: match self {
                Error::Invalid { field, .. } => Some(field.clone()),
                _ => None,
            },
        }
    }
}

/// `{"error_code", "message", "request_id"}`: the body of every error response.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct ErrorBody {
    pub error_code: String,
    pub message: String,
    pub request_id: String,
    /// The offending input field, for `VALIDATION_FAILED`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Error {
    /// A dependency's failure: 503 when the dependency itself is unreachable (the request wrote
    /// nothing, retry later), otherwise an internal error (a bad command or answer is our bug).
    fn from_dependency(
        dependency: Dependency,
        unavailable: bool,
        error: impl std::fmt::Display,
    ) -> Self {
        if unavailable {
            Error::Unavailable {
                dependency,
                detail: error.to_string(),
            }
        } else {
            Error::Internal(error.to_string())
        }
    }
}

impl From<RedisError> for Error {
    fn from(e: RedisError) -> Self {
        Error::from_dependency(Dependency::Redis, e.is_unavailable(), e)
    }
}

impl From<SqlError> for Error {
    fn from(e: SqlError) -> Self {
        Error::from_dependency(Dependency::Libsql, e.is_unavailable(), e)
    }
}

impl From<RpcError> for Error {
    fn from(e: RpcError) -> Self {
        Error::from_dependency(Dependency::Rpc, e.is_unavailable(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::TransportError;

    #[test]
    fn dependency_failures_map_to_503_with_their_code() {
        let e: Error = RedisError::Transport(TransportError::Connect("refused".into())).into();
        assert_eq!((e.status(), e.code()), (503, "REDIS_UNAVAILABLE"));
        let e: Error = SqlError::Http {
            status: 502,
            body: String::new(),
        }
        .into();
        assert_eq!((e.status(), e.code()), (503, "LIBSQL_UNAVAILABLE"));
        let e: Error = RpcError::Rpc {
            code: -1,
            message: "x".into(),
        }
        .into();
        assert_eq!((e.status(), e.code()), (500, "INTERNAL"));
    }

    #[test]
    fn internal_details_are_not_shown() {
        let body = Error::Internal("secret stack".into()).body("rid");
        assert_eq!(body.message, "internal error");
        assert_eq!(body.request_id, "rid");
    }
}
