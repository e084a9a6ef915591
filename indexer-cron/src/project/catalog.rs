//! The chain's catalog facts: `chain_events` and `chain_ticket_types` (append-only, nothing
//! materialised from them).

use super::rows::{address, at, dec, insert_rows, positioned};
use shared::chain::{ChainEvent, RawLog};
use shared::sql::{SqlValue, Statement};

/// Catalog rows of one batch.
#[derive(Default)]
pub(super) struct Catalog {
    events: Vec<Vec<SqlValue>>,
    types: Vec<Vec<SqlValue>>,
}

impl Catalog {
    /// Takes `EventCreated` and `TicketTypeCreated`; ignores anything else.
    pub(super) fn record(&mut self, log: &RawLog, event: &ChainEvent) {
        match event {
            ChainEvent::EventCreated {
                event_id,
                organizer,
                name,
            } => self.events.push(at(
                log,
                vec![
                    dec(event_id).into(),
                    address(organizer).into(),
                    name.clone().into(),
                ],
            )),
            ChainEvent::TicketTypeCreated {
                event_id,
                type_id,
                price,
                supply,
            } => self.types.push(at(
                log,
                vec![
                    dec(event_id).into(),
                    dec(type_id).into(),
                    dec(price).into(),
                    dec(supply).into(),
                ],
            )),
            _ => {}
        }
    }

    /// The fact inserts.
    pub(super) fn facts(self, out: &mut Vec<Statement>) {
        insert_rows(
            "chain_events",
            &positioned(&["chain_event_id", "organizer", "name"]),
            self.events,
            out,
        );
        insert_rows(
            "chain_ticket_types",
            &positioned(&["chain_event_id", "chain_type_id", "price", "supply"]),
            self.types,
            out,
        );
    }
}
