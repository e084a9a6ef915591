//! Catalog rows as typed records, and their JSON views (camelCase, ms timestamps, EIP-55
//! addresses, decimal-string amounts).
//!
//! Stored values are parsed back through the same domain types as client input: a row that
//! does not parse is a bug or a hand edit, reported as an internal error rather than served.

use crate::services::Services;
use serde_json::{Value, json};
use shared::domain::{
    ChainEventId, EventDescription, EventId, EventMetadata, EventStatus, EventTitle, SaleWindow,
    TicketTypeId, TimeWindow, TimeZone, Timestamp, Venue, WalletAddress,
};
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::{FromSql, Row, Statement};

/// What an organizer writes about an event (everything but identity, status and times of
/// record).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EventFields {
    pub title: EventTitle,
    pub description: EventDescription,
    pub venue: Venue,
    pub timezone: TimeZone,
    pub window: TimeWindow,
    pub sale: SaleWindow,
    pub metadata: EventMetadata,
    pub contract_address: Option<WalletAddress>,
    pub chain_event_id: Option<ChainEventId>,
}

/// One `events` row.
#[derive(Debug, Clone)]
pub(crate) struct EventRecord {
    pub id: EventId,
    pub organizer: WalletAddress,
    pub status: EventStatus,
    pub fields: EventFields,
    pub created_at: i64,
    /// Also the row's version: every write sets it to `max(now, updated_at + 1)`, so it
    /// strictly increases and a guard can tell whether the row changed since it was read.
    pub updated_at: i64,
}

/// The columns [`EventRecord::from_row`] reads.
pub(super) const EVENT_COLUMNS: &str = "id, organizer, title, description, venue, timezone, \
     starts_at, ends_at, sale_starts_at, sale_ends_at, status, metadata, contract_address, \
     chain_event_id, created_at, updated_at";

fn col<T: FromSql>(row: &Row<'_>, name: &str) -> Result<T, Error> {
    row.get(name).map_err(Error::from)
}

fn corrupt(what: &str, why: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored {what} does not parse: {why}"))
}

fn timestamp(row: &Row<'_>, name: &str) -> Result<Timestamp, Error> {
    Timestamp::from_ms(col(row, name)?).map_err(|e| corrupt(name, e))
}

fn opt_timestamp(row: &Row<'_>, name: &str) -> Result<Option<Timestamp>, Error> {
    col::<Option<i64>>(row, name)?
        .map(|ms| Timestamp::from_ms(ms).map_err(|e| corrupt(name, e)))
        .transpose()
}

/// The sale window stored in `sale_starts_at` / `sale_ends_at` of a row.
pub(super) fn sale_window(row: &Row<'_>) -> Result<SaleWindow, Error> {
    SaleWindow::new(
        opt_timestamp(row, "sale_starts_at")?,
        opt_timestamp(row, "sale_ends_at")?,
    )
    .map_err(|e| corrupt("sale window", e))
}

impl EventRecord {
    /// Reads a row selected with [`EVENT_COLUMNS`].
    ///
    /// # Errors
    /// Internal when the row does not parse.
    pub fn from_row(row: &Row<'_>) -> Result<Self, Error> {
        let text = |name: &str| col::<String>(row, name);
        let id: String = text("id")?;
        let status: String = text("status")?;
        Ok(EventRecord {
            id: EventId::parse(&id).map_err(|e| corrupt("id", e))?,
            organizer: WalletAddress::parse(&text("organizer")?)
                .map_err(|e| corrupt("organizer", e))?,
            status: EventStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            fields: EventFields {
                title: EventTitle::parse(&text("title")?).map_err(|e| corrupt("title", e))?,
                description: EventDescription::parse(&text("description")?)
                    .map_err(|e| corrupt("description", e))?,
                venue: Venue::parse(&text("venue")?).map_err(|e| corrupt("venue", e))?,
                timezone: TimeZone::parse(&text("timezone")?)
                    .map_err(|e| corrupt("timezone", e))?,
                window: TimeWindow::new(timestamp(row, "starts_at")?, timestamp(row, "ends_at")?)
                    .map_err(|e| corrupt("time window", e))?,
                sale: sale_window(row)?,
                metadata: EventMetadata::from_stored(&text("metadata")?)
                    .ok_or_else(|| corrupt("metadata", "not a JSON object"))?,
                contract_address: col::<Option<String>>(row, "contract_address")?
                    .map(|a| WalletAddress::parse(&a).map_err(|e| corrupt("contract_address", e)))
                    .transpose()?,
                chain_event_id: col::<Option<String>>(row, "chain_event_id")?
                    .map(|c| ChainEventId::parse(&c).map_err(|e| corrupt("chain_event_id", e)))
                    .transpose()?,
            },
            created_at: col(row, "created_at")?,
            updated_at: col(row, "updated_at")?,
        })
    }

    /// Reads event `id`, whatever its status.
    ///
    /// # Errors
    /// 503/500 when libSQL fails.
    pub async fn load<S: Services>(services: &S, id: &EventId) -> Result<Option<Self>, Error> {
        let rows = services
            .sql()
            .execute(
                Statement::new(format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = ?"))
                    .bind(id.as_str()),
            )
            .await?;
        rows.row(0).map(|row| Self::from_row(&row)).transpose()
    }

    /// The public JSON view.
    pub fn to_json(&self) -> Value {
        let f = &self.fields;
        json!({
            "id": self.id,
            "organizer": self.organizer,
            "title": f.title.as_str(),
            "description": f.description.as_str(),
            "venue": f.venue.as_str(),
            "timezone": f.timezone,
            "startsAt": f.window.start(),
            "endsAt": f.window.end(),
            "saleStartsAt": f.sale.start(),
            "saleEndsAt": f.sale.end(),
            "status": self.status,
            "metadata": f.metadata,
            "contractAddress": f.contract_address,
            "chainEventId": f.chain_event_id,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
        })
    }
}

/// The columns [`ticket_type_json`] reads.
pub(super) const TICKET_TYPE_COLUMNS: &str = "id, event_id, name, price, currency, supply, \
     per_wallet_limit, sale_starts_at, sale_ends_at, created_at";

/// The public JSON view of a `ticket_types` row selected with [`TICKET_TYPE_COLUMNS`]. The
/// values were parsed on the way in and are served as stored.
///
/// # Errors
/// Internal when a column is missing or of another type.
pub(super) fn ticket_type_json(row: &Row<'_>) -> Result<Value, Error> {
    let id: String = col(row, "id")?;
    TicketTypeId::parse(&id).map_err(|e| corrupt("ticket type id", e))?;
    Ok(json!({
        "id": id,
        "eventId": col::<String>(row, "event_id")?,
        "name": col::<String>(row, "name")?,
        "price": col::<String>(row, "price")?,
        "currency": col::<String>(row, "currency")?,
        "supply": col::<i64>(row, "supply")?,
        "perWalletLimit": col::<Option<i64>>(row, "per_wallet_limit")?,
        "saleStartsAt": col::<Option<i64>>(row, "sale_starts_at")?,
        "saleEndsAt": col::<Option<i64>>(row, "sale_ends_at")?,
        "createdAt": col::<i64>(row, "created_at")?,
    }))
}
