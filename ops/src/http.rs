//! The [`HttpClient`] port for native tools (`otctl`, tests), on reqwest.

use shared::http::{HttpRequest, HttpResponse, TransportError};
use shared::ports::HttpClient;
use std::time::Duration;

/// reqwest-backed HTTP client; cheap to clone.
#[derive(Debug, Clone)]
pub struct ReqwestHttp {
    client: reqwest::Client,
}

impl ReqwestHttp {
    /// A client whose requests time out after `timeout`.
    ///
    /// # Errors
    /// When the TLS backend cannot be initialised.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        Ok(ReqwestHttp {
            client: reqwest::Client::builder().timeout(timeout).build()?,
        })
    }
}

impl HttpClient for ReqwestHttp {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes())
            .map_err(|e| TransportError::Refused(e.to_string()))?;
        let mut builder = self.client.request(method, &request.url).body(request.body);
        for (name, value) in request.headers.iter() {
            builder = builder.header(name, value);
        }
        let response = builder.send().await.map_err(|e| {
            if e.is_timeout() {
                TransportError::Timeout(0)
            } else {
                TransportError::Connect(e.to_string())
            }
        })?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
            .collect();
        let body = response
            .bytes()
            .await
            .map_err(|e| TransportError::Connect(e.to_string()))?;
        Ok(HttpResponse {
            status,
            headers,
            body: body.to_vec(),
        })
    }
}
