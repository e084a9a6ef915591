//! Path matching (matchit, as axum uses): a request path to its [`Route`] and parameters,
//! current templates first, then the old ones kept as aliases.

use super::Route;
use std::sync::LazyLock;

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
