//! The production [`Backend`] of the live feeds: the request's Upstash and HTTP clients and
//! clock, owned, plus the host's location cache and `LIVE_FEED_URL`.

use super::feed::Backend;
use super::log::{self, LogRead, Range};
use crate::EdgeCache;
use crate::services::Outbound;
use futures::FutureExt;
use futures::future::LocalBoxFuture;
use shared::domain::EventId;
use shared::error::Error;
use shared::http::{Headers, HttpRequest, HttpResponse, Method};
use shared::ports::{Clock, HttpClient};
use shared::upstash::UpstashClient;
use std::rc::Rc;

/// Redis, the clock and the cache, owned by the feeds and streams that outlive a request.
pub struct EdgeBackend<H, C> {
    pub redis: UpstashClient<Outbound<H, C>>,
    /// The platform's HTTP client (with the dependency deadline), for reads through the CDN.
    pub http: Outbound<H, C>,
    /// `LIVE_FEED_URL`, without a trailing slash.
    pub feed_url: Option<String>,
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

    fn feed_url(&self) -> Option<&str> {
        self.feed_url.as_deref()
    }

    fn get<'a>(&'a self, url: &'a str) -> LocalBoxFuture<'a, Result<HttpResponse, Error>> {
        async move {
            let mut headers = Headers::new();
            headers.set("accept", "application/json");
            let request = HttpRequest {
                method: Method::Get,
                url: url.to_owned(),
                headers,
                body: Vec::new(),
            };
            self.http
                .send(request)
                .await
                .map_err(|e| Error::Internal(format!("GET {url}: {e}")))
        }
        .boxed_local()
    }

    fn key_space(&self) -> &str {
        &self.key_space
    }

    fn log(&self, line: &str) {
        // A stream outlives its request: its lines carry no request id.
        (self.log)(&crate::logs::error_line(self.clock.now_ms(), line, None));
    }
}
