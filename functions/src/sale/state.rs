//! An event's sale settings and whether its sale is paused, and the checks every sale write
//! makes with them.

use crate::services::Services;
use shared::domain::EventId;
use shared::error::Error;
use shared::ports::Sql;
use shared::sale::{QueueMode, SaleSettings};
use shared::sql::{Row, Statement};

/// What the sale routes need to know about an event's sale.
#[derive(Debug, Clone, PartialEq)]
pub struct SaleState {
    /// `None`: no sale configured, the event sells freely (no window, no waiting room) with
    /// the default hold TTL.
    pub settings: Option<SaleSettings>,
    /// The pause that applies (`*` or the event id), if any.
    pub paused: Option<String>,
}

/// Reads one `sale_settings` row.
pub fn settings_from_row(row: &Row<'_>) -> Result<SaleSettings, Error> {
    let number = |name: &str| -> Result<u32, Error> {
        let n: i64 = row.get(name)?;
        u32::try_from(n).map_err(|_| Error::Internal(format!("stored {name} {n} is out of range")))
    };
    let mode: String = row.get("queue_mode")?;
    Ok(SaleSettings {
        starts_at_ms: row.get("starts_at")?,
        ends_at_ms: row.get("ends_at")?,
        admission_per_minute: number("admission_per_minute")?,
        max_active: number("max_active")?,
        queue_mode: if mode == "random" {
            QueueMode::Random
        } else {
            QueueMode::Fifo
        },
        hold_ttl_secs: number("hold_ttl_secs")?,
        per_wallet_limit: number("per_wallet_limit")?,
        payment_window_secs: number("payment_window_secs")?,
        session_secs: number("session_secs")?,
        waiting_room: row.get::<i64>("waiting_room")? != 0,
        refund_window_secs: number("refund_window_secs")?,
        waitlist_offer_secs: number("waitlist_offer_secs")?,
    })
}

/// The statement reading an event's sale state (one row, settings columns `NULL` when no
/// sale is configured).
pub fn state_statement(event_id: &EventId) -> Statement {
    Statement::new(
        "SELECT s.*, (SELECT p.scope FROM sale_pauses p WHERE p.scope IN ('*', ?1) \
         ORDER BY p.scope = '*' DESC LIMIT 1) AS paused_scope \
         FROM (SELECT 1) LEFT JOIN sale_settings s ON s.event_id = ?1",
    )
    .bind(event_id.as_str())
}

/// Reads an event's sale state.
///
/// # Errors
/// 503 `LIBSQL_UNAVAILABLE`.
pub async fn load_state<S: Services>(services: &S, event_id: &EventId) -> Result<SaleState, Error> {
    let rows = services.sql().execute(state_statement(event_id)).await?;
    let row = rows
        .row(0)
        .ok_or_else(|| Error::Internal("the sale state query returned no row".to_owned()))?;
    state_from_row(&row)
}

/// Reads the row of [`state_statement`].
pub fn state_from_row(row: &Row<'_>) -> Result<SaleState, Error> {
    let configured = row.get::<Option<String>>("event_id")?.is_some();
    Ok(SaleState {
        settings: if configured {
            Some(settings_from_row(row)?)
        } else {
            None
        },
        paused: row.get("paused_scope")?,
    })
}
