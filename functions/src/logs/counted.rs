//! Counts a request's outbound calls (its `subrequests` in the request line; Workers bills and
//! caps them per request).

use shared::http::{HttpRequest, HttpResponse, TransportError};
use shared::ports::HttpClient;
use std::cell::Cell;
use std::rc::Rc;

/// The platform client, counting every call into a counter its clones share.
#[derive(Clone)]
pub struct Counted<H> {
    inner: H,
    count: Rc<Cell<u32>>,
}

impl<H> Counted<H> {
    pub fn new(inner: H) -> Self {
        Counted {
            inner,
            count: Rc::default(),
        }
    }

    /// Calls sent so far, through this client or any of its clones.
    pub fn count(&self) -> u32 {
        self.count.get()
    }
}

impl<H: HttpClient> HttpClient for Counted<H> {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        self.count.set(self.count.get().saturating_add(1));
        self.inner.send(request).await
    }
}
