//! The production [`Backend`] of the live feeds: the request's Upstash client and clock,
//! owned, plus the host's location cache.

use super::feed::Backend;
use super::log::{self, LogRead, Range};
use crate::EdgeCache;
use crate::services::Outbound;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Clock, HttpClient};
use shared::upstash::UpstashClient;
use std::rc::Rc;

/// Redis, the clock and the cache, owned by the feeds and streams that outlive a request.
pub struct EdgeBackend<H, C> {
    pub redis: UpstashClient<Outbound<H, C>>,
    pub clock: Rc<C>,
    pub prefix: String,
    /// The Redis URL and key prefix (see [`Backend::key_space`]).
    pub key_space: String,
    pub log: fn(&str),
    pub cache: Option<Rc<dyn EdgeCache>>,
}

impl<H: HttpClient + Clone, C: Clock> Backend for EdgeBackend<H, C> {
    fn read<'a>(
        &'a self,
        event: &'a EventId,
        range: Range,
        limit: usize,
    ) -> LocalBoxFuture<'a, Result<LogRead, Error>> {
        log::read(&self.redis, &self.prefix, event, range, limit).boxed_local()
    }

    fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    fn sleep(&self, ms: u64) -> LocalBoxFuture<'_, ()> {
        self.clock.sleep(ms).boxed_local()
    }

    fn cache(&self) -> Option<&dyn EdgeCache> {
        self.cache.as_deref()
    }

    fn key_space(&self) -> &str {
        &self.key_space
    }

    fn log(&self, line: &str) {
        (self.log)(line);
    }
}
