//! `GET /v1/market/listings` and `GET /v1/market/listings/{id}`.

use super::input::{ChainUint, ListingsQuery};
use super::view::{LISTING_COLUMNS, Listing, ListingDetail, TRADE_COLUMNS};
use super::{PageQuery, live};
use crate::call::Call;
use crate::http::Response;
use crate::services::Services;
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::Statement;

/// `GET /v1/market/listings`: listings filtered by `eventId`, `status`, `seller`; newest first
/// unless `sort` says otherwise.
///
/// # Errors
/// 400 `VALIDATION_FAILED` naming `eventId`, `status`, `seller`, `sort`, `page` or `pageSize`;
/// 503/500.
pub(super) async fn list<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let query = ListingsQuery::parse(&call.query)?;
    let page = PageQuery {
        from: "market_listings l",
        columns: LISTING_COLUMNS,
        filter: query.filter(),
        order_by: query.sort.order_by(),
        page: query.page,
    }
    .fetch(services, Listing::from_row)
    .await?;
    Ok(live(&page))
}

/// `GET /v1/market/listings/{id}`: a listing and the trade that filled it (`null` unless sold).
///
/// # Errors
/// 400 `VALIDATION_FAILED` (`id`) unless a decimal uint256; 404 `LISTING_NOT_FOUND`; 503/500.
pub(super) async fn get<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let id = ChainUint::param("id", call.params.get("id"))?;
    // A listing sells at most once; should the projection ever hold two trades, the latest wins.
    let rows = services
        .sql()
        .execute(
            Statement::new(format!(
                "SELECT {LISTING_COLUMNS}, {TRADE_COLUMNS} FROM market_listings l \
                 LEFT JOIN trades r ON r.listing_id = l.id WHERE l.id = ? \
                 ORDER BY r.block_number DESC, r.log_index DESC LIMIT 1"
            ))
            .bind(id.as_str()),
        )
        .await?;
    let row = rows.row(0).ok_or_else(|| {
        Error::not_found(
            "LISTING_NOT_FOUND",
            format!("there is no listing {}", id.as_str()),
        )
    })?;
    Ok(live(&ListingDetail::from_row(&row)?))
}
