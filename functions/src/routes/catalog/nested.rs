//! The windows that must lie inside an event's sale window: its ticket types' and its sale
//! settings'. A change to the event's windows reads them in one round trip, checks them
//! together and pins them in the write's guard, so a type or settings written meanwhile
//! cannot slip outside.

use super::record::{EventFields, sale_window};
use crate::services::Services;
use shared::domain::{EventId, SaleWindow, Timestamp};
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::{SqlValue, Statement};

/// The windows nested in one event's sale window, as read.
pub(super) struct Nested {
    /// Every ticket type's id and own window (types are never deleted).
    pub types: Vec<(String, SaleWindow)>,
    /// The sale settings' window, as stored (`starts_at`, `ends_at`), if there are settings.
    settings: Option<(i64, i64)>,
}

impl Nested {
    /// Reads the ticket types' and the sale settings' windows of event `id`.
    ///
    /// # Errors
    /// 503/500 from libSQL.
    pub async fn read<S: Services>(services: &S, id: &EventId) -> Result<Self, Error> {
        let mut results = services
            .sql()
            .execute_many(vec![
                Statement::new(
                    "SELECT id, sale_starts_at, sale_ends_at FROM ticket_types WHERE event_id = ?",
                )
                .bind(id.as_str()),
                Statement::new("SELECT starts_at, ends_at FROM sale_settings WHERE event_id = ?")
                    .bind(id.as_str()),
            ])
            .await?
            .into_iter();
        let mut next = || -> Result<shared::sql::Rows, Error> {
            Ok(results.next().ok_or_else(|| {
                Error::Internal("the window read returned too few results".into())
            })??)
        };
        let (types, settings) = (next()?, next()?);
        let types = types
            .iter()
            .map(|row| Ok((row.get::<String>("id")?, sale_window(&row)?)))
            .collect::<Result<Vec<_>, Error>>()?;
        let settings = match settings.row(0) {
            Some(row) => Some((row.get::<i64>("starts_at")?, row.get::<i64>("ends_at")?)),
            None => None,
        };
        Ok(Nested { types, settings })
    }

    /// Checks that every nested window lies within the sale window of `fields`.
    ///
    /// # Errors
    /// 422 `SALE_WINDOW_OUTSIDE_EVENT` naming what would fall outside.
    pub fn check(&self, fields: &EventFields) -> Result<(), Error> {
        let outside = |what: String| {
            Err(Error::unprocessable(
                "SALE_WINDOW_OUTSIDE_EVENT",
                format!("{what} would sell outside the event's sale window"),
            ))
        };
        if let Some((type_id, _)) = self
            .types
            .iter()
            .find(|(_, sale)| !sale.within(&fields.sale, &fields.window))
        {
            return outside(format!("ticket type {type_id}"));
        }
        if let Some((starts, ends)) = self.settings {
            // Stored settings were validated; one that no longer parses is outside anything.
            let window = match (Timestamp::from_ms(starts), Timestamp::from_ms(ends)) {
                (Ok(s), Ok(e)) => SaleWindow::new(Some(s), Some(e)).ok(),
                _ => None,
            };
            if !window.is_some_and(|w| w.within(&fields.sale, &fields.window)) {
                return outside("the sale settings".to_owned());
            }
        }
        Ok(())
    }

    /// A guard condition over the `events` row pinning what [`Nested::read`] saw (bind
    /// [`Nested::guard_args`]).
    pub const GUARD: &'static str = "(SELECT count(*) FROM ticket_types WHERE event_id = events.id) = ? \
         AND (SELECT starts_at || ':' || ends_at FROM sale_settings WHERE event_id = events.id) IS ?";

    /// The values [`Nested::GUARD`] binds.
    pub fn guard_args(&self) -> [SqlValue; 2] {
        [
            (self.types.len() as i64).into(),
            self.settings.map(|(s, e)| format!("{s}:{e}")).into(),
        ]
    }
}
