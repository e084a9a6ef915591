//! `PUT /v1/events/{id}/sale` (organizer): an event's sale settings; `GET` reads them.

use crate::audit;
use crate::call::Call;
use crate::extract::{authenticate, json_body};
use crate::http::Response;
use crate::routes::catalog::event_id;
use crate::routes::catalog::owned_event;
use crate::sale::load_state;
use crate::services::Services;
use serde::Deserialize;
use serde_json::json;
use shared::domain::{EventId, Role, SaleWindow, Timestamp};
use shared::error::Error;
use shared::ports::{Clock, Sql};
use shared::sale::{QueueMode, SaleSettings};
use shared::sql::{SqlValue, Statement};

/// The body; optional fields take the defaults of the issue.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct SettingsInput {
    starts_at: i64,
    ends_at: i64,
    admission_per_minute: u32,
    max_active: u32,
    #[serde(default = "fifo")]
    queue_mode: QueueMode,
    #[serde(default = "yes")]
    waiting_room: bool,
    #[serde(default = "default_hold")]
    hold_ttl_secs: u32,
    #[serde(default = "default_limit")]
    per_wallet_limit: u32,
    #[serde(default = "default_payment")]
    payment_window_secs: u32,
    #[serde(default = "default_session")]
    session_secs: u32,
    #[serde(default = "default_refund")]
    refund_window_secs: u32,
    #[serde(default = "default_offer")]
    waitlist_offer_secs: u32,
}

fn fifo() -> QueueMode {
    QueueMode::Fifo
}
fn yes() -> bool {
    true
}
fn default_hold() -> u32 {
    SaleSettings::DEFAULT_HOLD_TTL_SECS
}
fn default_limit() -> u32 {
    10
}
fn default_payment() -> u32 {
    SaleSettings::DEFAULT_PAYMENT_WINDOW_SECS
}
fn default_session() -> u32 {
    SaleSettings::DEFAULT_SESSION_SECS
}
fn default_refund() -> u32 {
    SaleSettings::DEFAULT_REFUND_WINDOW_SECS
}
fn default_offer() -> u32 {
    SaleSettings::DEFAULT_WAITLIST_OFFER_SECS
}

impl From<SettingsInput> for SaleSettings {
    fn from(i: SettingsInput) -> Self {
        SaleSettings {
            starts_at_ms: i.starts_at,
            ends_at_ms: i.ends_at,
            admission_per_minute: i.admission_per_minute,
            max_active: i.max_active,
            queue_mode: i.queue_mode,
            hold_ttl_secs: i.hold_ttl_secs,
            per_wallet_limit: i.per_wallet_limit,
            payment_window_secs: i.payment_window_secs,
            session_secs: i.session_secs,
            waiting_room: i.waiting_room,
            refund_window_secs: i.refund_window_secs,
            waitlist_offer_secs: i.waitlist_offer_secs,
        }
    }
}

/// The settings as the API shows them.
pub fn view(event_id: &EventId, s: &SaleSettings) -> serde_json::Value {
    json!({
        "eventId": event_id,
        "startsAt": s.starts_at_ms,
        "endsAt": s.ends_at_ms,
        "admissionPerMinute": s.admission_per_minute,
        "maxActive": s.max_active,
        "queueMode": s.queue_mode,
        "waitingRoom": s.waiting_room,
        "holdTtlSecs": s.hold_ttl_secs,
        "perWalletLimit": s.per_wallet_limit,
        "paymentWindowSecs": s.payment_window_secs,
        "sessionSecs": s.session_secs,
        "refundWindowSecs": s.refund_window_secs,
        "waitlistOfferSecs": s.waitlist_offer_secs,
    })
}

/// `PUT /v1/events/{id}/sale`.
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE` / `EVENT_NOT_OWNER`; 404 `EVENT_NOT_FOUND`; 400
/// `VALIDATION_FAILED` naming the field; 409 `EVENT_STATE_CONFLICT` (cancelled) /
/// `EVENT_CHANGED`; 422 `SALE_WINDOW_OUTSIDE_EVENT` (the window must lie within the event's
/// sale window, as a ticket type's does).
pub async fn put<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = authenticate(services, call.request).await?;
    caller.require(Role::Organizer)?;
    let id = event_id(call)?;
    let settings = SaleSettings::from(json_body::<SettingsInput>(call.request)?)
        .validate()
        .map_err(|e| Error::invalid(e.field, e.message))?;
    let event = owned_event(services, &caller, &id).await?;
    if !event.status.is_editable() {
        return Err(Error::conflict(
            "EVENT_STATE_CONFLICT",
            "the event is cancelled: its sale cannot change",
        ));
    }
    let window = SaleWindow::new(
        Some(Timestamp::from_ms(settings.starts_at_ms).map_err(|m| Error::invalid("startsAt", m))?),
        Some(Timestamp::from_ms(settings.ends_at_ms).map_err(|m| Error::invalid("endsAt", m))?),
    )
    .map_err(|m| Error::invalid("endsAt", m))?;
    let (event_window, event_sale) = (event.fields.window, event.fields.sale);
    if !window.within(&event_sale, &event_window) {
        return Err(Error::unprocessable(
            "SALE_WINDOW_OUTSIDE_EVENT",
            "the sale settings' window must lie within the event's sale window \
             (which ends with the event at the latest)",
        ));
    }
    // The guard pins what was checked: the event still editable, with the same windows.
    let guard = Statement::guard(
        "SELECT 1 FROM events WHERE id = ? AND status IN ('draft', 'published') \
         AND ends_at = ? AND sale_starts_at IS ? AND sale_ends_at IS ?",
        [
            SqlValue::from(id.as_str()),
            event_window.end().ms().into(),
            event_sale.start().map(Timestamp::ms).into(),
            event_sale.end().map(Timestamp::ms).into(),
        ],
    );
    let now = services.clock().now_ms();
    let s = &settings;
    let upsert = Statement::new(
        "INSERT INTO sale_settings (event_id, starts_at, ends_at, admission_per_minute, max_active, \
         queue_mode, waiting_room, hold_ttl_secs, per_wallet_limit, payment_window_secs, session_secs, \
         refund_window_secs, waitlist_offer_secs, updated_by, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (event_id) DO UPDATE SET starts_at = excluded.starts_at, ends_at = excluded.ends_at, \
         admission_per_minute = excluded.admission_per_minute, max_active = excluded.max_active, \
         queue_mode = excluded.queue_mode, waiting_room = excluded.waiting_room, \
         hold_ttl_secs = excluded.hold_ttl_secs, per_wallet_limit = excluded.per_wallet_limit, \
         payment_window_secs = excluded.payment_window_secs, session_secs = excluded.session_secs, \
         refund_window_secs = excluded.refund_window_secs, waitlist_offer_secs = excluded.waitlist_offer_secs, \
         updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(id.as_str())
    .bind(s.starts_at_ms)
    .bind(s.ends_at_ms)
    .bind(i64::from(s.admission_per_minute))
    .bind(i64::from(s.max_active))
    .bind(if s.queue_mode == QueueMode::Random {
        "random"
    } else {
        "fifo"
    })
    .bind(i64::from(s.waiting_room))
    .bind(i64::from(s.hold_ttl_secs))
    .bind(i64::from(s.per_wallet_limit))
    .bind(i64::from(s.payment_window_secs))
    .bind(i64::from(s.session_secs))
    .bind(i64::from(s.refund_window_secs))
    .bind(i64::from(s.waitlist_offer_secs))
    .bind(caller.wallet.checksummed())
    .bind(now as i64);
    let body = view(&id, s);
    let written = services
        .sql()
        .batch_atomic(vec![
            guard,
            upsert,
            audit::entry(
                &caller.wallet,
                "sale.settings",
                id.as_str(),
                &body,
                call.request_id,
                now,
            ),
        ])
        .await;
    match written {
        Err(e) if e.is_guard_failure() => {
            return Err(Error::conflict(
                "EVENT_CHANGED",
                "the event changed while this request ran; nothing was written, reload it and retry",
            ));
        }
        other => other?,
    };
    Ok(Response::json(200, &body))
}

/// `GET /v1/events/{id}/sale`: public, so clients can show the start and the queue mode.
///
/// # Errors
/// 404 `SALE_NOT_CONFIGURED`.
pub async fn get<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let id = event_id(call)?;
    let state = load_state(services, &id).await?;
    let settings = state.settings.ok_or_else(|| {
        Error::not_found(
            "SALE_NOT_CONFIGURED",
            format!("event {id} has no sale settings"),
        )
    })?;
    let mut body = view(&id, &settings);
    body["paused"] = json!(state.paused.is_some());
    Ok(Response::json(200, &body))
}
