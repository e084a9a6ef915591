//! The chain read API: tickets, wallets and the secondary market as the indexer projected them
//! into libSQL (`tickets` rows with a `token_id`, `transfers`, `market_listings`, `trades`).
//!
//! Public and read-only. These are live views of the chain, so they are served from libSQL
//! on every request (no Redis read cache) with `cache-control: no-cache`: a fan who just bought
//! or transferred a ticket must see it as soon as the indexer has. Each detail is one statement
//! (the record outer-joined with its history), so it is read from one snapshot; a list is a
//! count and a page read in parallel, like the catalog's.

mod input;
mod market;
mod tickets;
mod view;

use crate::call::Call;
use crate::extract::{Page, Paged};
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
use input::Filter;
use serde::Serialize;
use shared::error::Error;
use shared::http::Method;
use shared::ports::Sql;
use shared::sql::Row;

/// Dispatches the routes of this area.
///
/// # Errors
/// The handlers' errors (see each handler).
pub async fn dispatch<S: Services>(
    services: &S,
    route: Route,
    call: &Call<'_>,
) -> Result<Response, Error> {
    match (route, call.method) {
        (Route::ChainTicket, Method::Get) => tickets::get(services, call).await,
        (Route::WalletTickets, Method::Get) => tickets::list_owned(services, call).await,
        (Route::MarketListings, Method::Get) => market::list(services, call).await,
        (Route::MarketListing, Method::Get) => market::get(services, call).await,
        // The router only hands over the methods `Route::methods` lists.
        _ => Err(Error::Internal(format!(
            "{} {} is not a chain read route",
            call.method,
            route.template()
        ))),
    }
}

/// A 200 JSON response that caches may store but must revalidate every time.
fn live(body: &impl Serialize) -> Response {
    let mut response = Response::json(200, body);
    response.headers.set("cache-control", "no-cache");
    response
}

/// What one page of a list reads.
struct PageQuery<'a> {
    /// `FROM …` (tables and joins).
    from: &'a str,
    /// The columns of an item.
    columns: &'a str,
    filter: Filter,
    order_by: String,
    page: Page,
}

impl PageQuery<'_> {
    /// Counts the matches and reads the requested page (two reads in parallel: one round trip
    /// of latency), turning each row into an item with `item`.
    ///
    /// # Errors
    /// 503/500 when libSQL fails; whatever `item` fails with.
    async fn fetch<S, T>(
        &self,
        services: &S,
        item: impl Fn(&Row<'_>) -> Result<T, Error>,
    ) -> Result<Paged<T>, Error>
    where
        S: Services,
    {
        let filter = self.filter.sql();
        let count = self
            .filter
            .statement(format!("SELECT count(*) AS n FROM {} {filter}", self.from));
        let rows = self
            .filter
            .statement(format!(
                "SELECT {} FROM {} {filter} ORDER BY {} LIMIT ? OFFSET ?",
                self.columns, self.from, self.order_by
            ))
            .bind(self.page.page_size)
            .bind(self.page.offset());
        let (count, rows) =
            futures::join!(services.sql().execute(count), services.sql().execute(rows));
        let total = count?.count()?;
        let items = rows?
            .iter()
            .map(|row| item(&row))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(self.page.paged(items, total))
    }
}

#[cfg(test)]
mod tests {
    use crate::app::handle;
    use crate::http::{Request, Response};
    use crate::testing::FakeServices;
    use futures::executor::block_on;
    use serde_json::{Value, json};

    fn call(services: &FakeServices, path: &str) -> (Response, Value) {
        let (response, _) = block_on(handle(services, Request::new("GET", path), "rid-1"));
        let body = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
        (response, body)
    }

    #[test]
    fn bad_input_is_a_400_naming_the_parameter() {
        let services = FakeServices::up();
        for (path, field) in [
            ("/v1/chain/tickets/abc", "tokenId"),
            ("/v1/chain/tickets/007", "tokenId"),
            ("/v1/tickets/0x10", "tokenId"),
            ("/v1/wallets/0x1234/tickets", "address"),
            (
                "/v1/wallets/0x70997970C51812dc3A010C7d01b50e0d17dc79C8/tickets?status=lost",
                "status",
            ),
            ("/v1/market/listings?status=open", "status"),
            ("/v1/market/listings?seller=bob", "seller"),
            ("/v1/market/listings/-1", "id"),
        ] {
            let (response, body) = call(&services, path);
            assert_eq!(response.status, 400, "{path}: {body}");
            assert_eq!(body["error_code"], "VALIDATION_FAILED", "{path}");
            assert_eq!(body["field"], field, "{path}");
        }
    }

    #[test]
    fn unknown_ids_are_404s() {
        let services = FakeServices::up();
        let (response, body) = call(&services, "/v1/chain/tickets/7");
        assert_eq!(
            (response.status, &body["error_code"]),
            (404, &json!("TICKET_NOT_FOUND"))
        );
        let (response, body) = call(&services, "/v1/market/listings/7");
        assert_eq!(
            (response.status, &body["error_code"]),
            (404, &json!("LISTING_NOT_FOUND"))
        );
    }

    #[test]
    fn lists_are_paged_and_not_cached() {
        let services = FakeServices::up();
        for path in [
            "/v1/wallets/0x70997970c51812dc3a010c7d01b50e0d17dc79c8/tickets?page=2&pageSize=5",
            "/v1/market/listings?page=2&pageSize=5",
        ] {
            let (response, body) = call(&services, path);
            assert_eq!(response.status, 200, "{path}: {body}");
            assert_eq!(
                body,
                json!({"page": 2, "pageSize": 5, "total": 0, "items": []})
            );
            assert_eq!(response.headers.get("cache-control"), Some("no-cache"));
        }
    }

    #[test]
    fn libsql_down_is_a_503() {
        let mut services = FakeServices::up();
        services.sql.up = false;
        let (response, body) = call(&services, "/v1/tickets/7");
        assert_eq!(
            (response.status, &body["error_code"]),
            (503, &json!("LIBSQL_UNAVAILABLE"))
        );
    }
}
