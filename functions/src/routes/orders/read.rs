//! Reading orders and tickets: one order (its payer, the event's organizer, admins), and the
//! caller's own orders and tickets.

use super::view;
use super::{not_found, runs_event};
use crate::call::Call;
use crate::extract::{Page, authenticate};
use crate::http::Response;
use crate::payments::fulfil::end_unpaid;
use crate::payments::order::OrderRecord;
use crate::services::Services;
use serde_json::json;
use shared::domain::Role;
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::Statement;

/// `GET /v1/orders/{id}`. A pending order past its deadline is expired on the spot (and its
/// hold released), so clients never see a payable order that is not.
///
/// # Errors
/// 401; 404 `ORDER_NOT_FOUND` (also for orders the caller may not see).
pub async fn get<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    let id = call.params.get("id");
    if !id.starts_with("ord_") || id.len() > 40 {
        return Err(not_found(id));
    }
    let mut order = OrderRecord::load(services.sql(), "id", id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let may_see = order.payer == caller.wallet.checksummed()
        || (caller.role >= Role::Organizer
            && runs_event(services, &caller, &order.event_id).await?);
    if !may_see {
        return Err(not_found(id));
    }
    // Judged by Redis's clock near the deadline, as the payment path judges it: an order the
    // payment would still pay is never expired here.
    if order.status == "pending_payment"
        && crate::payments::standing::is_late(services, &order).await
        && end_unpaid(services, &order, "expired", vec![]).await?
    {
        order.status = "expired".to_owned();
    }
    Ok(Response::json(200, &view(services, &order).await?))
}

/// `GET /v1/me/orders`: the caller's orders, newest first.
///
/// # Errors
/// 401; 400 for a bad page.
pub async fn mine<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    let page = Page::from_query(&call.query)?;
    let wallet = caller.wallet.checksummed();
    let sql = services.sql();
    let (rows, total) = futures::join!(
        sql.execute(
            Statement::new(format!(
                "SELECT {} FROM orders WHERE payer = ? ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
                crate::payments::order::ORDER_COLUMNS
            ))
            .bind(wallet.as_str())
            .bind(i64::from(page.page_size))
            .bind(page.offset()),
        ),
        sql.execute(Statement::new("SELECT count(*) AS n FROM orders WHERE payer = ?").bind(wallet.as_str()))
    );
    let mut items = Vec::new();
    for row in rows?.iter() {
        items.push(view(services, &OrderRecord::from_row(&row)?).await?);
    }
    Ok(Response::json(200, &page.paged(items, total?.count()?)))
}

/// `GET /v1/me/tickets`: tickets the caller's wallet owns (from paid orders and from the
/// chain).
///
/// # Errors
/// 401; 400 for a bad page.
pub async fn tickets<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    let page = Page::from_query(&call.query)?;
    let wallet = caller.wallet.checksummed();
    let sql = services.sql();
    let (rows, total) = futures::join!(
        sql.execute(
            Statement::new(
                "SELECT id, serial, token_id, event_id, ticket_type_id, order_id, owner, seat_label, status, created_at \
                 FROM tickets WHERE owner = ? COLLATE NOCASE ORDER BY created_at DESC, id LIMIT ? OFFSET ?",
            )
            .bind(wallet.as_str())
            .bind(i64::from(page.page_size))
            .bind(page.offset()),
        ),
        sql.execute(
            Statement::new("SELECT count(*) AS n FROM tickets WHERE owner = ? COLLATE NOCASE")
                .bind(wallet.as_str())
        )
    );
    let total = total?.count()?;
    let items = rows?
        .iter()
        .map(|row| {
            Ok(json!({
                "ticketId": row.get::<String>("id")?,
                "serial": row.get::<Option<String>>("serial")?,
                "tokenId": row.get::<Option<String>>("token_id")?,
                "eventId": row.get::<String>("event_id")?,
                "ticketTypeId": row.get::<Option<String>>("ticket_type_id")?,
                "orderId": row.get::<Option<String>>("order_id")?,
                "owner": row.get::<String>("owner")?,
                "seatLabel": row.get::<Option<String>>("seat_label")?,
                "status": row.get::<String>("status")?,
                "createdAt": row.get::<i64>("created_at")?,
            }))
        })
        .collect::<Result<Vec<_>, Error>>()?;
    Ok(Response::json(200, &page.paged(items, total)))
}
