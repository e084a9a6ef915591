//! Outbound HTTP over `wasi:http/client@0.3.0`.
//!
//! We build the WASI request by hand instead of calling `spin_sdk::http::send`: that helper
//! drops the "transmit" future `Request::new` returns, and wasmtime (49.x) treats the drop as
//! cancelling the exchange, so response bodies arrive empty (wasmtime issue #14227). Keeping
//! the future alive until the body is read fixes it. Bodies get an explicit `content-length`,
//! since chunked outbound bodies were not read by every server we tried.

use shared::http::{HttpRequest, HttpResponse, TransportError};
use spin_sdk::http::FromResponse;
use spin_sdk::http::body::IncomingBodyExt;
use spin_sdk::wasip3::http::types::{ErrorCode, Fields, Method, Request, Scheme};
use spin_sdk::wasip3::{wit_future, wit_stream};

fn refused(what: &str) -> TransportError {
    TransportError::Refused(what.to_owned())
}

fn method(m: shared::http::Method) -> Method {
    use shared::http::Method as M;
    match m {
        M::Get => Method::Get,
        M::Head => Method::Head,
        M::Post => Method::Post,
        M::Put => Method::Put,
        M::Patch => Method::Patch,
        M::Delete => Method::Delete,
        M::Options => Method::Options,
    }
}

/// Sends the request and reads the whole response body.
pub async fn send(request: HttpRequest) -> Result<HttpResponse, TransportError> {
    let uri: http::Uri = request.url.parse().map_err(|_| refused("invalid URL"))?;
    let mut header_list: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .filter(|(name, _)| *name != "content-length")
        .map(|(name, value)| (name.to_owned(), value.as_bytes().to_vec()))
        .collect();
    header_list.push((
        "content-length".into(),
        request.body.len().to_string().into_bytes(),
    ));
    let fields =
        Fields::from_list(&header_list).map_err(|e| refused(&format!("headers: {e:?}")))?;
    let (mut body_tx, body_rx) = wit_stream::new::<u8>();
    let (trailers_tx, trailers_rx) = wit_future::new(|| Ok(None));
    let (outgoing, transmit) = Request::new(fields, Some(body_rx), trailers_rx, None);
    outgoing
        .set_method(&method(request.method))
        .map_err(|()| refused("method"))?;
    let scheme = if uri.scheme_str() == Some("https") {
        Scheme::Https
    } else {
        Scheme::Http
    };
    outgoing
        .set_scheme(Some(&scheme))
        .map_err(|()| refused("scheme"))?;
    outgoing
        .set_authority(uri.authority().map(|a| a.as_str()))
        .map_err(|()| refused("authority"))?;
    outgoing
        .set_path_with_query(uri.path_and_query().map(|p| p.as_str()))
        .map_err(|()| refused("path"))?;
    let body = request.body;
    // The body is written concurrently with `send`, which waits for the response head.
    spin_sdk::wasip3::spawn(async move {
        let _ = body_tx.write_all(body).await;
        drop(body_tx);
        let _ = trailers_tx.write(Ok(None)).await;
    });
    let response = spin_sdk::wasip3::http::client::send(outgoing)
        .await
        .map_err(transport)?;
    let (parts, body) = spin_sdk::http::Response::from_response(response)
        .map_err(transport)?
        .into_parts();
    let bytes = body
        .bytes()
        .await
        .map_err(|e| TransportError::Connect(e.to_string()))?;
    // Only now may the transmit future go (see the module docs).
    let _ = transmit.await;
    Ok(HttpResponse {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?.to_owned())))
            .collect(),
        body: bytes.to_vec(),
    })
}

fn transport(error: ErrorCode) -> TransportError {
    match error {
        ErrorCode::ConnectionTimeout
        | ErrorCode::ConnectionReadTimeout
        | ErrorCode::ConnectionWriteTimeout => TransportError::Timeout(0),
        ErrorCode::HttpRequestDenied | ErrorCode::HttpRequestUriInvalid => {
            TransportError::Refused(format!("{error:?}"))
        }
        other => TransportError::Connect(format!("{other:?}")),
    }
}
