//! One request's path: request id → route → handler → error mapping → metrics sample.

use crate::EdgeCache;
use crate::after::{AfterResponse, Instances};
use crate::call::{Call, RateSlot};
use crate::cors;
use crate::extract::Query;
use crate::http::{Request, Response};
use crate::live;
use crate::logs;
use crate::logs::request::{RequestLine, body_error_code, caller_wallet, level_of};
use crate::metrics::{Sample, pending};
use crate::rate_limit;
use crate::router::{self, Route};
use crate::routes;
use crate::services::{EdgeServices, Services};
use indexer_cron::{TickReport, Trigger};
use shared::config::{Config, ConfigError};
use shared::error::Error;
use shared::http::Method;
use shared::ports::{Clock, HttpClient, Rng};
use std::rc::Rc;

/// What a host shell provides: outbound HTTP, time and randomness.
pub struct Platform<H, C, R> {
    pub http: H,
    pub clock: C,
    pub rng: R,
    /// Where operator-facing error lines go.
    pub log: fn(&str),
    /// Whether the host reuses instances between requests (see [`Instances`]).
    pub instances: Instances,
    /// The location cache, when the host has one (Workers' Cache API; Spin: `None`). The
    /// live feeds share their log reads through it (see `crate::live::feed`).
    pub cache: Option<Rc<dyn EdgeCache>>,
}

/// A served request: the response, and work to run after it is sent (deferred Redis commands,
/// a due metrics flush; see [`AfterResponse`]), `None` when there is none.
pub struct Served<H, C, R> {
    pub response: Response,
    pub after: Option<AfterResponse<H, C, R>>,
}

/// Serves one HTTP request.
pub async fn serve<H, C, R>(
    platform: Platform<H, C, R>,
    config: Result<Config, ConfigError>,
    request: Request,
) -> Served<H, C, R>
where
    H: HttpClient + Clone + 'static,
    C: Clock + 'static,
    R: Rng,
{
    let request_id = request_id(&request, &platform.rng);
    match config {
        Ok(config) => {
            let services = EdgeServices::new(
                platform.http,
                platform.clock,
                platform.rng,
                platform.log,
                config,
            )
            .with_cache(platform.cache)
            .with_request_id(&request_id);
            let Handled {
                response,
                sample,
                error_code,
                wallet,
            } = handle_traced(&services, request, &request_id).await;
            let line = RequestLine::of(&sample, wallet, services.subrequests(), error_code);
            services.emit(level_of(sample.status), "request", &line);
            let policy = pending::FlushPolicy::new(
                &services.config().metrics,
                platform.instances == Instances::PerRequest,
            );
            // `/health` must stay free of outbound calls: it never flushes.
            let may_flush = sample.route != Route::Health.template();
            let flush = pending::record(&sample, services.clock().now_ms(), policy, may_flush);
            Served {
                response,
                after: AfterResponse::new(services, flush),
            }
        }
        Err(error) => {
            // Liveness does not depend on configuration; everything else explains what is wrong.
            let error = Error::Config(error);
            let healthy = request.path == Route::Health.template();
            let response = if healthy {
                routes::health::get()
            } else {
                error_response(&error, &request_id)
            };
            // No configuration, so no secrets to scrub: the line holds none.
            let code = (!healthy).then(|| error.code().to_owned());
            let line = RequestLine::unconfigured(&request, response.status, code);
            let (now, level) = (platform.clock.now_ms(), level_of(response.status));
            (platform.log)(&logs::line(now, level, "request", Some(&request_id), &line));
            Served {
                response: with_request_id(response, &request_id),
                after: None,
            }
        }
    }
}

/// A handled request: the response, its metrics sample, and what its log line adds.
pub struct Handled {
    pub response: Response,
    pub sample: Sample,
    pub error_code: Option<String>,
    /// The authenticated caller, shortened for the log.
    pub wallet: Option<String>,
}

/// Handles a request with the given services; returns the response and its metrics sample.
#[cfg(test)]
pub async fn handle<S: Services>(
    services: &S,
    request: Request,
    request_id: &str,
) -> (Response, Sample) {
    let handled = handle_traced(services, request, request_id).await;
    (handled.response, handled.sample)
}

/// [`handle`], with what the request's log line needs.
pub async fn handle_traced<S: Services>(
    services: &S,
    request: Request,
    request_id: &str,
) -> Handled {
    let started = services.clock().now_ms();
    let method = Method::parse(&request.method);
    let resolved = router::resolve(&request.path);
    let route = resolved.as_ref().map(|(route, _)| *route);
    let mut limited = None;
    let result = match (resolved, method, request.body_refused.as_ref()) {
        // Refused by the host while reading (see `crate::body`): nothing else is done.
        (Some(_), _, Some(refused)) => Err(refused.error()),
        (None, _, _) => Err(Error::not_found(
            "ROUTE_NOT_FOUND",
            format!("no route for {}", request.path),
        )),
        (Some((route, _)), Some(Method::Options), None)
            if request.headers.get("origin").is_some() =>
        {
            cors::preflight(services.config(), &request, route.methods())
        }
        (Some((route, params)), method, None) => {
            match method.filter(|m| route.methods().contains(m)) {
                None => Err(Error::MethodNotAllowed {
                    allowed: route.methods().to_vec(),
                }),
                Some(method) => {
                    let group = route.rate_group(method);
                    // A gated route runs its limiter inside its own script call.
                    let checked = if route.gated(method) {
                        Ok(None)
                    } else {
                        rate_limit::check(services, group, &request).await
                    };
                    limited = checked.as_ref().ok().copied().flatten();
                    match checked {
                        Err(e) => Err(e),
                        Ok(Some(decision)) if !decision.allowed => Err(decision.error()),
                        Ok(_) => {
                            let call = Call {
                                request: &request,
                                method: if method == Method::Head {
                                    Method::Get
                                } else {
                                    method
                                },
                                params,
                                query: Query::parse(request.query.as_deref()),
                                request_id,
                                rate: RateSlot::new(group),
                            };
                            let result = dispatch(services, route, &call).await;
                            limited = limited.or(call.rate.decision.get());
                            result
                        }
                    }
                }
            }
        }
    };
    let (mut response, error_code) = match result {
        Ok(response) => {
            let code = body_error_code(&response);
            (response, code)
        }
        Err(error) => {
            // The client sees a generic body; the cause goes to the operator's log.
            if error.status() >= 500 {
                services.log_error(&format!(
                    "{} {}: {error}",
                    request.method,
                    route.map_or("unmatched", Route::template)
                ));
            }
            (
                error_response(&error, request_id),
                Some(error.code().to_owned()),
            )
        }
    };
    let wallet = caller_wallet(services, &request, response.status);
    if method == Some(Method::Head) {
        response.body.clear();
        response.stream = None;
    }
    if let Some(decision) = limited {
        decision.decorate(&mut response);
    }
    cors::decorate(services.config(), &request, &mut response);
    let duration_ms = services.clock().now_ms().saturating_sub(started);
    // Time inside the component (I/O waits included; Workers' clock only moves across I/O).
    response
        .headers
        .set("server-timing", format!("app;dur={duration_ms}"));
    let sample = Sample {
        method: method.map_or("OTHER", Method::as_str),
        route: route.map_or("unmatched", Route::template),
        status: response.status,
        duration_ms,
    };
    Handled {
        response: with_request_id(response, request_id),
        sample,
        error_code,
        wallet,
    }
}

async fn dispatch<S: Services>(
    services: &S,
    route: Route,
    call: &Call<'_>,
) -> Result<Response, Error> {
    use Route::*;
    match route {
        Health => Ok(routes::health::get()),
        Ready => Ok(routes::ready::get(services, call.request_id).await),
        Metrics => routes::metrics::get(services, call.request).await,
        OpenApi => Ok(routes::openapi::get()),
        CronIndexer => routes::cron::post_indexer(services, call.request).await,
        BenchCrypto => routes::bench::post_crypto(services, call).await,
        SiweChallenge | SiweVerify | Nonce | VerifySig | Refresh | Logout | Me => {
            routes::auth::dispatch(services, route, call).await
        }
        UserRole | Audit => routes::admin::dispatch(services, route, call).await,
        Events | Event | EventPublish | EventCancel | TicketTypes | Seats => {
            routes::catalog::dispatch(services, route, call).await
        }
        VerifierKeys | VerifierKey | VerifierMe => {
            routes::verifier::dispatch(services, route, call).await
        }
        ChainTicket | WalletTickets | MarketListings | MarketListing => {
            routes::chain::dispatch(services, route, call).await
        }
        Holds | Hold | Availability => routes::holds::dispatch(services, route, call).await,
        AvailabilityUpdates | AvailabilityStream => live::dispatch(services, route, call).await,
        LivePage | LiveAsset => routes::live_page::get(route, call),
        SaleSettings | Queue | QueueStatus | SalesPause | SalesResume | SalesStatus | DenyList
        | Waitlist => routes::sales::dispatch(services, route, call).await,
        Orders | Order | OrderRefund | MyOrders | MyTickets => {
            routes::orders::dispatch(services, route, call).await
        }
        StripeWebhook => routes::payments::stripe_webhook(services, call).await,
        TicketQr | TicketQrSvg => routes::ticket_codes::dispatch(services, route, call).await,
        CheckinScan | CheckinUpload | CheckinMe | CheckinKeys | CheckinRevocations
        | CheckinTickets | CheckinStats => routes::checkin::dispatch(services, route, call).await,
        ScannerRedirect | ScannerPage | ScannerAsset => routes::scanner::get(route, call),
        SwapQuote | SwapQuotes | SwapPairs => routes::swap::dispatch(services, route, call).await,
    }
}

/// Runs the scheduled work of a cron trigger (Workers `scheduled`).
///
/// # Errors
/// [`ConfigError`]/dependency errors as [`Error`].
pub async fn run_scheduled<H, C, R>(
    platform: Platform<H, C, R>,
    config: Result<Config, ConfigError>,
) -> Result<TickReport, Error>
where
    H: HttpClient + Clone + 'static,
    C: Clock + 'static,
    R: Rng,
{
    // One id for the run's step lines, so they read as one run.
    let run_id = format!("cron-{}", platform.rng.hex(8)?);
    let services = EdgeServices::new(
        platform.http,
        platform.clock,
        platform.rng,
        platform.log,
        config?,
    )
    .with_request_id(&run_id);
    let report = crate::indexer::run_tick(&services, Trigger::Cron).await;
    // The sale upkeep runs whatever the tick's outcome: expiring orders and reconciling
    // inventory do not depend on the chain.
    crate::upkeep::run(&services).await;
    report
}

/// The one place an [`Error`] becomes an HTTP response.
pub(crate) fn error_response(error: &Error, request_id: &str) -> Response {
    let mut response = Response::json(error.status(), &error.body(request_id));
    match error {
        Error::MethodNotAllowed { allowed } => {
            let names: Vec<_> = allowed.iter().map(|m| m.as_str()).collect();
            response.headers.set("allow", names.join(", "));
        }
        Error::RateLimited { retry_after_secs }
        | Error::InFlight {
            retry_after_secs, ..
        } => {
            response
                .headers
                .set("retry-after", retry_after_secs.to_string());
        }
        _ => {}
    }
    response
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    response.headers.set("x-request-id", request_id);
    response
}

/// Reuses a caller's `x-request-id` when it is short and plain, so traces join up; otherwise
/// makes a new one.
fn request_id(request: &Request, rng: &impl Rng) -> String {
    request
        .headers
        .get("x-request-id")
        .filter(|id| {
            !id.is_empty()
                && id.len() <= 64
                && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
        .map_or_else(
            // Without a generator the request still gets an id for its log lines; whatever it
            // does that needs randomness answers 503 `RNG_UNAVAILABLE` on its own.
            || rng.hex(12).unwrap_or_else(|_| "rng-unavailable".to_owned()),
            str::to_owned,
        )
}

#[cfg(test)]
mod tests;
