//! Ports: the small traits through which the core reaches the outside world.
//!
//! They deliberately do not require `Send`/`Sync`: on Workers every future that touches JS is
//! `!Send`. Async ports use `async fn` in traits and are taken as generics, never boxed.

use crate::error::{Dependency, Error};
use crate::http::{HttpRequest, HttpResponse, TransportError};

pub use crate::redis::Redis;
pub use crate::rpc::ChainRpc;
pub use crate::sql::Sql;

/// Sends one HTTP request. Implemented by each host shell (Workers `fetch`, Spin outbound
/// HTTP) and by native tools (reqwest).
#[allow(async_fn_in_trait)]
pub trait HttpClient {
    /// Sends the request and reads the whole response body.
    ///
    /// # Errors
    /// [`TransportError`] when no HTTP response arrived; any HTTP status is an `Ok`.
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

impl<T: HttpClient> HttpClient for &T {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        (**self).send(request).await
    }
}

/// Wall-clock time and waiting.
#[allow(async_fn_in_trait)]
pub trait Clock {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> u64;

    /// Resolves after roughly `ms` milliseconds (used for deadlines on dependency calls).
    async fn sleep(&self, ms: u64);
}

/// A shared clock is a clock: the services and the [`crate::deadline::Deadline`] around each
/// protocol client use the same platform timer.
impl<T: Clock + ?Sized> Clock for std::rc::Rc<T> {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
    async fn sleep(&self, ms: u64) {
        (**self).sleep(ms).await;
    }
}

impl<T: Clock + ?Sized> Clock for &T {
    fn now_ms(&self) -> u64 {
        (**self).now_ms()
    }
    async fn sleep(&self, ms: u64) {
        (**self).sleep(ms).await;
    }
}

/// Cryptographically secure randomness.
///
/// Fallible on purpose: a platform whose CSPRNG fails must end the request in 503
/// `RNG_UNAVAILABLE`, never hand out predictable ids, nonces or tokens (zeros would be).
pub trait Rng {
    /// Fills `buf` with random bytes.
    ///
    /// # Errors
    /// [`Error::Unavailable`] with [`Dependency::Rng`] when the platform's generator fails; `buf`
    /// must then not be used.
    fn fill(&self, buf: &mut [u8]) -> Result<(), Error>;

    /// `bytes` random bytes as lower-case hex.
    ///
    /// # Errors
    /// As [`Rng::fill`].
    fn hex(&self, bytes: usize) -> Result<String, Error> {
        let mut buf = vec![0u8; bytes];
        self.fill(&mut buf)?;
        Ok(hex::encode(buf))
    }
}

/// The error an [`Rng`] answers when the platform's generator fails (`detail` is logged).
pub fn rng_unavailable(detail: impl Into<String>) -> Error {
    Error::Unavailable {
        dependency: Dependency::Rng,
        detail: detail.into(),
    }
}
