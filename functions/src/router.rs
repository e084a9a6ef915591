//! The route table: path templates, the methods each accepts, and path matching.

use shared::http::Method;
use std::sync::LazyLock;

/// Every route of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Health,
    Ready,
    Metrics,
    OpenApi,
    CronIndexer,
}

impl Route {
    /// All routes, for the router and the OpenAPI consistency test.
    pub const ALL: &'static [Route] = &[
        Route::Health,
        Route::Ready,
        Route::Metrics,
        Route::OpenApi,
        Route::CronIndexer,
    ];

    /// The path template (also the `route` label of metrics).
    pub fn template(self) -> &'static str {
        match self {
            Route::Health => "/health",
            Route::Ready => "/ready",
            Route::Metrics => "/metrics",
            Route::OpenApi => "/openapi.json",
            Route::CronIndexer => "/internal/cron/indexer",
        }
    }

    /// The methods the route serves (`HEAD` is served wherever `GET` is).
    pub fn methods(self) -> &'static [Method] {
        match self {
            Route::Health | Route::Ready | Route::Metrics | Route::OpenApi => {
                &[Method::Get, Method::Head]
            }
            Route::CronIndexer => &[Method::Post],
        }
    }
}

static ROUTER: LazyLock<matchit::Router<Route>> = LazyLock::new(|| {
    let mut router = matchit::Router::new();
    for route in Route::ALL {
        // The templates are constants checked by the `every_route_resolves` test.
        let _ = router.insert(route.template(), *route);
    }
    router
});

/// The route whose template matches `path`.
pub fn resolve(path: &str) -> Option<Route> {
    ROUTER.at(path).ok().map(|m| *m.value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_resolves_to_itself() {
        for route in Route::ALL {
            assert_eq!(resolve(route.template()), Some(*route));
        }
        assert_eq!(resolve("/nope"), None);
        assert_eq!(resolve("/health/"), None);
    }
}
