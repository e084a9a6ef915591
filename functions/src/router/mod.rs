//! The route table: path templates, the methods each accepts, the rate-limit group, and
//! whether a route runs its gate in its own script. Path matching is [`matching`]. Handlers
//! live in `routes/<area>.rs`; `app::dispatch` maps `(Route, Method)` to them.

mod matching;

#[cfg(test)]
pub use matching::ALIASES;
pub use matching::{Params, resolve};

use shared::http::Method;

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
    // Swap quotes on the configured Uniswap V2 deployment.
    SwapQuote,
    SwapQuotes,
    SwapPairs,
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
        Route::SwapQuote,
        Route::SwapQuotes,
        Route::SwapPairs,
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
            Route::SwapQuote => "/v1/swap/quote",
            Route::SwapQuotes => "/v1/swap/quotes",
            Route::SwapPairs => "/v1/swap/pairs",
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
            Route::SwapQuote | Route::SwapPairs => &[Get, Head],
            Route::SwapQuotes => &[Post],
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
            // A batch of quotes is a read sent as POST for its body.
            Route::SwapQuote | Route::SwapQuotes | Route::SwapPairs => RateGroup::Read,
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
                    | Route::VerifySig
                    | Route::SwapQuotes,
                Post
            ) | (
                Route::QueueStatus
                    | Route::TicketQr
                    | Route::TicketQrSvg
                    | Route::AvailabilityUpdates
                    | Route::SwapQuote
                    | Route::SwapPairs,
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
