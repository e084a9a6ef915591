//! Turning request parts into typed values, once, at the edge of a handler. Each failure is a
//! 400/401/403 with a code and, for input, the field it concerns.

mod caller;
mod json;
mod page;
mod query;
pub mod session;
mod verifier;

pub use caller::{Caller, authenticate, authenticate_token, bearer as bearer_token, jwt_codec};
pub use json::{json_body, json_body_or_empty, json_body_with_limit};
pub use page::{Page, Paged};
pub use query::Query;
pub use verifier::{Verifier, authenticate_event_verifier, authenticate_verifier};
