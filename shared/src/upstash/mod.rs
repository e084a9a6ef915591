//! Client for the Upstash Redis REST protocol, written on the [`crate::ports::HttpClient`] port.
//!
//! `POST /` carries one command as a JSON array, `POST /pipeline` and `POST /multi-exec` carry
//! arrays of commands; replies are `{"result": …}` or `{"error": "…"}`. We always ask for
//! `Upstash-Encoding: base64` so binary values survive the JSON round trip.

mod client;
mod response;

pub use client::UpstashClient;
pub use response::{decode_reply, decode_result};
