//! `POST /v1/orders/{id}/refund`: the event's organizer or an admin, or the holder within the
//! sale's refund window, refunds a paid order. Its tickets are revoked and a refund record
//! says what to pay back (card: the payment intent; chain: payer, token, amount — an on-chain
//! `Refunded` closes it). The seats go to the waitlist first, else back to the pool.

use super::{not_found, runs_event};
use crate::audit;
use crate::call::Call;
use crate::extract::authenticate;
use crate::http::Response;
use crate::payments::fulfil::{Refund, return_items};
use crate::payments::order::OrderRecord;
use crate::sale::load_state;
use crate::services::Services;
use serde_json::json;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::{Clock, Rng, Sql};
use shared::sale::SaleSettings;
use shared::sql::Statement;

/// `POST /v1/orders/{id}/refund`.
///
/// # Errors
/// 401; 403 `REFUND_NOT_ALLOWED` (the holder outside the window); 404 `ORDER_NOT_FOUND`;
/// 409 `ORDER_NOT_REFUNDABLE` (not paid) / `TICKET_USED`.
pub async fn refund<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    let id = call.params.get("id");
    let order = OrderRecord::load(services.sql(), "id", id)
        .await?
        .ok_or_else(|| not_found(id))?;
    let event_id = EventId::parse(&order.event_id)
        .map_err(|e| Error::Internal(format!("order event id: {e}")))?;
    let (sale, is_staff) = futures::join!(
        load_state(services, &event_id),
        runs_event(services, &caller, &order.event_id)
    );
    let (sale, is_staff) = (sale?, is_staff?);
    let wallet = caller.wallet.checksummed();
    let is_holder = order.payer == wallet;
    if !is_staff && !is_holder {
        return Err(not_found(id));
    }
    if !order.is_sold() {
        return Err(Error::conflict(
            "ORDER_NOT_REFUNDABLE",
            format!(
                "the order is {}; only a paid order can be refunded",
                order.status
            ),
        ));
    }
    let now = services.clock().now_ms() as i64;
    if !is_staff {
        let window = sale
            .settings
            .map_or(SaleSettings::DEFAULT_REFUND_WINDOW_SECS, |s| {
                s.refund_window_secs
            });
        let paid_at = order.paid_at.unwrap_or(0);
        if now > paid_at + i64::from(window) * 1000 {
            return Err(Error::forbidden(
                "REFUND_NOT_ALLOWED",
                "the refund window for ticket holders has closed; ask the organizer",
            ));
        }
    }
    let method = if order.paid_via.as_deref() == Some("chain") {
        "chain"
    } else {
        "card"
    };
    let refund_id = format!("rfd_{}", services.rng().hex(10)?);
    let record = Refund {
        order: Some(&order),
        order_ref: &order.order_ref,
        reason: if is_staff {
            "organizer_refund"
        } else {
            "holder_refund"
        },
        method,
        token: order.paid_token.clone(),
        amount: &order.total,
        source: Some(format!("api:{}", call.request_id)),
        ..Refund::default()
    };
    let batch = vec![
        Statement::guard(
            "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM tickets WHERE order_id = ? AND status = 'used')",
            [order.id.clone().into()],
        ),
        Statement::new(
            "UPDATE orders SET status = 'refunded', updated_at = ? WHERE id = ? AND status IN ('paid', 'overpaid')",
        )
        .bind(now)
        .bind(order.id.as_str()),
        Statement::guard_changed(),
        Statement::new(
            "UPDATE tickets SET status = 'revoked', updated_at = ? WHERE order_id = ? AND status = 'valid'",
        )
        .bind(now)
        .bind(order.id.as_str()),
        record.insert(refund_id.clone(), now),
        audit::entry(
            &caller.wallet,
            "order.refund",
            &order.id,
            &json!({ "refundId": refund_id, "method": method, "amount": order.total }),
            call.request_id,
            now as u64,
        ),
    ];
    match services.sql().batch_atomic(batch).await {
        Ok(_) => {}
        Err(e) if e.failed_index() == Some(0) && e.is_guard_failure() => {
            return Err(Error::conflict(
                "TICKET_USED",
                "a ticket of this order was already used at the door",
            ));
        }
        Err(e) if e.is_guard_failure() => {
            return Err(Error::conflict(
                "ORDER_NOT_REFUNDABLE",
                "the order changed meanwhile; read it again",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let offer_secs = sale
        .settings
        .map_or(SaleSettings::DEFAULT_WAITLIST_OFFER_SECS, |s| {
            s.waitlist_offer_secs
        });
    let offers = match return_items(services, &order, u64::from(offer_secs) * 1000).await {
        Ok(offers) => offers,
        Err(e) => {
            services.log_error(&format!(
                "order {} refunded but Redis did not follow ({e}); reconcile will",
                order.id
            ));
            Vec::new()
        }
    };
    Ok(Response::json(
        200,
        &json!({
            "orderId": order.id,
            "status": "refunded",
            "refund": {
                "id": refund_id,
                "method": method,
                "amount": order.total,
                "currency": order.currency,
                "paymentIntent": order.payment_intent,
                "payer": order.payer,
                "token": order.paid_token,
            },
            "offeredTo": offers.iter().map(|(wallet, hold)| json!({"wallet": wallet, "holdId": hold})).collect::<Vec<_>>(),
        }),
    ))
}
