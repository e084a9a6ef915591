//! The route table: path templates, the methods each accepts, the rate-limit group, and path
//! matching (matchit, as axum uses). Handlers live in `routes/<area>.rs`; `app::dispatch` maps
//! `(Route, Method)` to them.

use shared::http::Method;
use std::sync::LazyLock;

/// Every path of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Health,
    Ready,
    Metrics,
    OpenApi,
    CronIndexer,
    BenchCrypto,
    // Wallet login and sessions.
    SiweChallenge,
    SiweVerify,
    Nonce,
    VerifySig,
    Refresh,
    Logout,
    Me,
    // Administration.
    UserRole,
    Audit,
    // Event catalog.
    Events,
    Event,
    EventPublish,
    EventCancel,
    TicketTypes,
    Seats,
    // Venue scanner keys.
    VerifierKeys,
    VerifierKey,
    VerifierMe,
    // Chain projections (read-only).
    ChainTicket,
    WalletTickets,
    MarketListings,
    MarketListing,
    // Holds.
    Holds,
    Hold,
    Availability,
    // Live availability: the change log, its stream and the seat-map page.
    AvailabilityUpdates,
    AvailabilityStream,
    LivePage,
    LiveAsset,
    // The sale: settings, waiting room, pause switch, deny list, waitlist.
    SaleSettings,
    Queue,
    QueueStatus,
    SalesPause,
    SalesResume,
    SalesStatus,
    DenyList,
    Waitlist,
    // Orders and payments.
    Orders,
    Order,
    OrderRefund,
    MyOrders,
    MyTickets,
    StripeWebhook,
    // Tickets at the door: holder codes, scans, scanner sync, the scanner page.
    TicketQr,
    TicketQrSvg,
    CheckinScan,
    CheckinUpload,
    CheckinMe,
    CheckinKeys,
    CheckinRevocations,
    CheckinTickets,
    CheckinStats,
    ScannerRedirect,
    ScannerPage,
    ScannerAsset,
}

/// Which token bucket a route draws from (configured per group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateGroup {
    /// Not rate limited (platform routes: probes and scrapers must always get through).
    None,
    /// Login, refresh, logout.
    Auth,
    /// Public reads (catalog and chain projections).
    Read,
    /// Organizer/admin/verifier writes and authenticated reads.
    Write,
    /// Venue scanners (check-in and its sync).
    Scanner,
}

impl RateGroup {
    /// Name used in Redis keys and configuration (`RATE_LIMIT_<NAME>`).
    pub fn name(self) -> &'static str {
        match self {
            RateGroup::None => "none",
            RateGroup::Auth => "auth",
            RateGroup::Read => "read",
            RateGroup::Write => "write",
            RateGroup::Scanner => "scanner",
        }
    }
}

use Method::{Delete, Get, Head, Patch, Post, Put};

impl Route {
    /// All routes, for the router and the OpenAPI consistency test.
    pub const ALL: &'static [Route] = &[
        Route::Health,
        Route::Ready,
        Route::Metrics,
        Route::OpenApi,
        Route::CronIndexer,
        Route::BenchCrypto,
        Route::SiweChallenge,
        Route::SiweVerify,
        Route::Nonce,
        Route::VerifySig,
        Route::Refresh,
        Route::Logout,
        Route::Me,
        Route::UserRole,
        Route::Audit,
        Route::Events,
        Route::Event,
        Route::EventPublish,
        Route::EventCancel,
        Route::TicketTypes,
        Route::Seats,
        Route::VerifierKeys,
        Route::VerifierKey,
        Route::VerifierMe,
        Route::ChainTicket,
        Route::WalletTickets,
        Route::MarketListings,
        Route::MarketListing,
        Route::Holds,
        Route::Hold,
        Route::Availability,
        Route::AvailabilityUpdates,
        Route::AvailabilityStream,
        Route::LivePage,
        Route::LiveAsset,
        Route::SaleSettings,
        Route::Queue,
        Route::QueueStatus,
        Route::SalesPause,
        Route::SalesResume,
        Route::SalesStatus,
        Route::DenyList,
        Route::Waitlist,
        Route::Orders,
        Route::Order,
        Route::OrderRefund,
        Route::MyOrders,
        Route::MyTickets,
        Route::StripeWebhook,
        Route::TicketQr,
        Route::TicketQrSvg,
        Route::CheckinScan,
        Route::CheckinUpload,
        Route::CheckinMe,
        Route::CheckinKeys,
        Route::CheckinRevocations,
        Route::CheckinTickets,
        Route::CheckinStats,
        Route::ScannerRedirect,
        Route::ScannerPage,
        Route::ScannerAsset,
    ];

    /// The path template (also the `route` label of metrics).
    pub fn template(self) -> &'static str {
        match self {
            Route::Health => "/health",
            Route::Ready => "/ready",
            Route::Metrics => "/metrics",
            Route::OpenApi => "/openapi.json",
            Route::CronIndexer => "/internal/cron/indexer",
            Route::BenchCrypto => "/internal/bench/crypto",
            Route::SiweChallenge => "/v1/auth/siwe/challenge",
            Route::SiweVerify => "/v1/auth/siwe/verify",
            Route::Nonce => "/v1/auth/nonce",
            Route::VerifySig => "/v1/auth/verify-sig",
            Route::Refresh => "/v1/auth/refresh",
            Route::Logout => "/v1/auth/logout",
            Route::Me => "/v1/auth/me",
            Route::UserRole => "/v1/admin/users/{address}/role",
            Route::Audit => "/v1/admin/audit",
            Route::Events => "/v1/events",
            Route::Event => "/v1/events/{id}",
            Route::EventPublish => "/v1/events/{id}/publish",
            Route::EventCancel => "/v1/events/{id}/cancel",
            Route::TicketTypes => "/v1/events/{id}/ticket-types",
            Route::Seats => "/v1/events/{id}/seats",
            Route::VerifierKeys => "/v1/events/{id}/verifier-keys",
            Route::VerifierKey => "/v1/events/{id}/verifier-keys/{keyId}",
            Route::VerifierMe => "/v1/events/{id}/verifier/me",
            Route::ChainTicket => "/v1/chain/tickets/{tokenId}",
            Route::WalletTickets => "/v1/wallets/{address}/tickets",
            Route::MarketListings => "/v1/market/listings",
            Route::MarketListing => "/v1/market/listings/{id}",
            Route::Holds => "/v1/holds",
            Route::Hold => "/v1/holds/{id}",
            Route::Availability => "/v1/events/{id}/availability",
            Route::AvailabilityUpdates => "/v1/events/{id}/availability/updates",
            Route::AvailabilityStream => "/v1/events/{id}/availability/stream",
            Route::LivePage => "/events/{id}/live",
            Route::LiveAsset => "/live/{file}",
            Route::SaleSettings => "/v1/events/{id}/sale",
            Route::Queue => "/v1/sales/{eventId}/queue",
            Route::QueueStatus => "/v1/sales/{eventId}/queue/status",
            Route::SalesPause => "/v1/admin/sales/pause",
            Route::SalesResume => "/v1/admin/sales/resume",
            Route::SalesStatus => "/v1/admin/sales/status",
            Route::DenyList => "/v1/admin/deny-list/{address}",
            Route::Waitlist => "/v1/events/{id}/waitlist",
            Route::Orders => "/v1/orders",
            Route::Order => "/v1/orders/{id}",
            Route::OrderRefund => "/v1/orders/{id}/refund",
            Route::MyOrders => "/v1/me/orders",
            Route::MyTickets => "/v1/me/tickets",
            Route::StripeWebhook => "/v1/payments/webhook/stripe",
            Route::TicketQr => "/v1/tickets/{ticketId}/qr",
            Route::TicketQrSvg => "/v1/tickets/{ticketId}/qr.svg",
            Route::CheckinScan => "/v1/checkin/scan",
            Route::CheckinUpload => "/v1/checkin/upload",
            Route::CheckinMe => "/v1/checkin/me",
            Route::CheckinKeys => "/v1/checkin/events/{id}/keys",
            Route::CheckinRevocations => "/v1/checkin/events/{id}/revocations",
            Route::CheckinTickets => "/v1/checkin/events/{id}/tickets",
            Route::CheckinStats => "/v1/checkin/events/{id}/stats",
            Route::ScannerRedirect => "/scanner",
            Route::ScannerPage => "/scanner/",
            Route::ScannerAsset => "/scanner/{file}",
        }
    }

    /// The methods the route serves (`HEAD` is served wherever `GET` is).
    pub fn methods(self) -> &'static [Method] {
        match self {
            Route::Health | Route::Ready | Route::Metrics | Route::OpenApi => &[Get, Head],
            Route::Nonce | Route::Me | Route::Audit | Route::VerifierMe => &[Get, Head],
            Route::ChainTicket
            | Route::WalletTickets
            | Route::MarketListings
            | Route::MarketListing => &[Get, Head],
            Route::CronIndexer | Route::BenchCrypto => &[Post],
            Route::SiweChallenge | Route::SiweVerify | Route::VerifySig => &[Post],
            Route::Refresh | Route::Logout | Route::EventPublish | Route::EventCancel => &[Post],
            Route::UserRole => &[Put],
            Route::Events | Route::TicketTypes | Route::VerifierKeys => &[Get, Head, Post],
            Route::Event => &[Get, Head, Patch],
            Route::Seats => &[Get, Head, Put],
            Route::VerifierKey | Route::Hold => &[Delete],
            Route::Holds => &[Post],
            Route::Availability => &[Get, Head],
            Route::SaleSettings => &[Get, Head, Put],
            Route::Queue | Route::SalesPause | Route::SalesResume => &[Post],
            Route::Orders | Route::OrderRefund | Route::StripeWebhook => &[Post],
            Route::QueueStatus | Route::SalesStatus | Route::Order => &[Get, Head],
            Route::MyOrders | Route::MyTickets => &[Get, Head],
            Route::DenyList => &[Put, Delete],
            Route::Waitlist => &[Get, Head, Post],
            Route::CheckinScan | Route::CheckinUpload => &[Post],
            Route::TicketQr
            | Route::TicketQrSvg
            | Route::CheckinMe
            | Route::CheckinKeys
            | Route::CheckinRevocations
            | Route::CheckinTickets
            | Route::CheckinStats
            | Route::ScannerRedirect
            | Route::ScannerPage
            | Route::ScannerAsset
            | Route::AvailabilityUpdates
            | Route::AvailabilityStream
            | Route::LivePage
            | Route::LiveAsset => &[Get, Head],
        }
    }

    /// The rate-limit group of a request to this route.
    pub fn rate_group(self, method: Method) -> RateGroup {
        match self {
            Route::Health | Route::Ready | Route::Metrics | Route::OpenApi => RateGroup::None,
            Route::CronIndexer | Route::BenchCrypto => RateGroup::None,
            // Stripe retries on its own schedule; a 429 would only delay a paid order.
            Route::StripeWebhook => RateGroup::None,
            // Polling the queue is cheap and must not lock a waiting fan out of their turn.
            Route::QueueStatus => RateGroup::Read,
            // A venue's doors often share one IP: scanners get their own, larger bucket.
            Route::CheckinScan
            | Route::CheckinUpload
            | Route::CheckinMe
            | Route::CheckinKeys
            | Route::CheckinRevocations
            | Route::CheckinTickets
            | Route::CheckinStats => RateGroup::Scanner,
            Route::ScannerRedirect | Route::ScannerPage | Route::ScannerAsset => RateGroup::Read,
            // A watcher costs no store command once connected (the log is read once per
            // instance and poll interval, see `crate::live`): a per-connection Redis limiter
            // would make the fan-out cost per client again.
            Route::AvailabilityStream => RateGroup::None,
            Route::LivePage | Route::LiveAsset => RateGroup::Read,
            Route::SiweChallenge | Route::SiweVerify | Route::Nonce | Route::VerifySig => {
                RateGroup::Auth
            }
            Route::Refresh | Route::Logout | Route::Me => RateGroup::Auth,
            _ if matches!(method, Get | Head) && self.is_public_read() => RateGroup::Read,
            _ => RateGroup::Write,
        }
    }

    /// Whether the route checks its rate limit (and the caller's token revocation) inside its
    /// own Redis script call, so the request costs one round trip ([`crate::gate`]).
    pub fn gated(self, method: Method) -> bool {
        matches!(
            (self, method),
            (
                Route::Holds
                    | Route::Orders
                    | Route::Queue
                    | Route::CheckinScan
                    | Route::SiweChallenge
                    | Route::SiweVerify
                    | Route::VerifySig,
                Post
            ) | (
                Route::QueueStatus
                    | Route::TicketQr
                    | Route::TicketQrSvg
                    | Route::AvailabilityUpdates,
                Get | Head
            )
        )
    }

    fn is_public_read(self) -> bool {
        matches!(
            self,
            Route::Events
                | Route::Event
                | Route::TicketTypes
                | Route::Seats
                | Route::ChainTicket
                | Route::WalletTickets
                | Route::MarketListings
                | Route::MarketListing
                | Route::Availability
                | Route::AvailabilityUpdates
                | Route::SaleSettings
        )
    }
}

/// Path parameters of a matched route (`{id}` → value), percent-decoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, String)>);

impl Params {
    /// The value of parameter `name` (always present for the matched template).
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Paths that moved, still served (and documented as deprecated) so existing clients keep
/// working: `(old template, route)`. The old template uses the route's parameter names, so
/// handlers read one name whichever path was called.
///
/// `/v1/tickets/{id}` once took an on-chain token id while `/v1/tickets/{id}/qr` took a
/// catalog ticket id (`tkt_…`); on-chain reads now live under `/v1/chain/`, so `/v1/tickets/`
/// means catalog tickets only.
pub const ALIASES: &[(&str, Route)] = &[("/v1/tickets/{tokenId}", Route::ChainTicket)];

static ROUTER: LazyLock<matchit::Router<Route>> = LazyLock::new(|| {
    let mut router = matchit::Router::new();
    for route in Route::ALL {
        // The templates are constants checked by the `every_route_resolves` test.
        let _ = router.insert(route.template(), *route);
    }
    router
});

// Aliases sit in their own tree, consulted only when no current route matches: an old
// template may name a parameter differently from a current one at the same position
// (`{tokenId}` next to `{ticketId}/qr`), which matchit does not promise to accept in one tree.
static ALIAS_ROUTER: LazyLock<matchit::Router<Route>> = LazyLock::new(|| {
    let mut router = matchit::Router::new();
    for (template, route) in ALIASES {
        // Constants checked by the `aliases_resolve_to_their_route_…` test.
        let _ = router.insert(*template, *route);
    }
    router
});

/// The route whose template (or an alias of it) matches `path`, with its parameters.
pub fn resolve(path: &str) -> Option<(Route, Params)> {
    let matched = ROUTER.at(path).or_else(|_| ALIAS_ROUTER.at(path)).ok()?;
    let params = matched
        .params
        .iter()
        .map(|(k, v)| (k.to_owned(), percent_decode(v)))
        .collect();
    Some((*matched.value, Params(params)))
}

fn percent_decode(value: &str) -> String {
    form_urlencoded::parse(format!("v={}", value.replace('+', "%2B")).as_bytes())
        .next()
        .map_or_else(|| value.to_owned(), |(_, v)| v.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_resolves_to_itself() {
        for route in Route::ALL {
            let (found, _) = resolve(route.template()).expect("resolves");
            assert_eq!(found, *route);
        }
        assert_eq!(resolve("/nope"), None);
        assert_eq!(resolve("/health/"), None);
    }

    #[test]
    fn aliases_resolve_to_their_route_with_its_parameter_names() {
        for (template, route) in ALIASES {
            let (found, _) = resolve(template).expect("resolves");
            assert_eq!(found, *route);
        }
        let (route, params) = resolve("/v1/tickets/42").expect("resolves");
        assert_eq!(route, Route::ChainTicket);
        assert_eq!(params.get("tokenId"), "42");
        let (route, params) = resolve("/v1/tickets/tkt_1/qr").expect("resolves");
        assert_eq!(route, Route::TicketQr);
        assert_eq!(params.get("ticketId"), "tkt_1");
    }

    #[test]
    fn params_are_extracted_and_decoded() {
        let (route, params) = resolve("/v1/events/evt%2D1/verifier-keys/k+1").expect("resolves");
        assert_eq!(route, Route::VerifierKey);
        assert_eq!(params.get("id"), "evt-1");
        assert_eq!(params.get("keyId"), "k+1");
    }
}
