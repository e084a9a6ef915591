//! Orders: `POST /v1/orders` (from a hold, idempotent), `GET /v1/orders/{id}`,
//! `GET /v1/me/orders`, `GET /v1/me/tickets`, `POST /v1/orders/{id}/refund`.

mod create;
mod idempotency;
mod read;
mod refund;

use crate::call::Call;
use crate::extract::Caller;
use crate::http::Response;
use crate::payments::chain::token_for;
use crate::payments::order::{OrderRecord, load_items};
use crate::router::Route;
use crate::routes::catalog::runs_existing_event;
use crate::services::Services;
use serde_json::{Value, json};
use shared::domain::EventId;
use shared::error::Error;
use shared::http::Method;
use shared::ports::Clock;

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
        (Route::Orders, Method::Post) => create::create(services, call).await,
        (Route::Order, Method::Get) => read::get(services, call).await,
        (Route::OrderRefund, Method::Post) => refund::refund(services, call).await,
        (Route::MyOrders, Method::Get) => read::mine(services, call).await,
        (Route::MyTickets, Method::Get) => read::tickets(services, call).await,
        // The router only hands over the methods `Route::methods` lists.
        _ => Err(Error::Internal(format!(
            "{} {} is not an orders route",
            call.method,
            route.template()
        ))),
    }
}

/// 404 `ORDER_NOT_FOUND` (also for orders the caller may not see).
fn not_found(id: &str) -> Error {
    Error::not_found("ORDER_NOT_FOUND", format!("there is no order {id:?}"))
}

/// Whether `caller` runs the event `event_id`: an admin or its organizer, decided as the
/// catalog decides it for event writes.
///
/// # Errors
/// 503 from libSQL.
async fn runs_event<S: Services>(
    services: &S,
    caller: &Caller,
    event_id: &str,
) -> Result<bool, Error> {
    let Ok(id) = EventId::parse(event_id) else {
        return Ok(false);
    };
    runs_existing_event(services, caller, &id).await
}

/// An order as the API shows it, with how to pay it.
///
/// # Errors
/// 503 `LIBSQL_UNAVAILABLE`.
pub async fn view<S: Services>(services: &S, order: &OrderRecord) -> Result<Value, Error> {
    let items = load_items(services.sql(), &order.id).await?;
    Ok(view_of(services, order, items))
}

/// The order as clients see it, given its items.
pub fn view_of<S: Services>(
    services: &S,
    order: &OrderRecord,
    items: Vec<crate::payments::order::OrderItem>,
) -> Value {
    let now = services.clock().now_ms() as i64;
    let status = order.effective_status(now);
    let mut body = json!({
        "orderId": order.id,
        "orderRef": order.order_ref,
        "eventId": order.event_id,
        "payer": order.payer,
        "status": status,
        "total": order.total,
        "currency": order.currency,
        "items": items,
        "holdId": order.hold_id,
        "paymentDeadline": order.payment_deadline,
        "paidAt": order.paid_at,
        "paidVia": order.paid_via,
        "paidAmount": order.paid_amount,
        "createdAt": order.created_at,
    });
    if status == "pending_payment" {
        body["payment"] = json!({
            // Card: create a PaymentIntent with this metadata; the webhook matches it.
            "card": { "amount": order.total, "currency": order.currency.to_lowercase(),
                      "metadata": { "orderId": order.id } },
            // Chain: PaymentVault.deposit(orderRef) with this token and amount.
            "chain": token_for(&order.currency).map(|token| json!({
                "orderRef": order.order_ref, "token": token, "amount": order.total })),
        });
    }
    body
}
