//! The body of `POST /v1/holds` and hold ids, parsed once: the rest of the area only sees
//! [`HoldRequest`] and [`HoldId`].

use serde::Deserialize;
use shared::domain::{EventId, SeatLabel, TicketTypeId};
use shared::error::Error;
use shared::ports::Rng;
use std::collections::HashSet;
use std::fmt;

/// The most seats or units one hold may take. Far above any per-wallet limit a sale would set;
/// it bounds the work of one script run.
pub const MAX_UNITS_PER_HOLD: u32 = 50;

/// The raw body. Fields are optional here so a missing one is reported by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct HoldInput {
    event_id: Option<String>,
    seats: Option<Vec<String>>,
    ticket_type_id: Option<String>,
    quantity: Option<i64>,
}

/// What a hold asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Want {
    /// These seats (distinct, in request order).
    Seats(Vec<SeatLabel>),
    /// A number of units of a ticket type sold by quantity (general admission).
    Quantity {
        ticket_type_id: TicketTypeId,
        quantity: u32,
    },
}

/// A parsed `POST /v1/holds` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldRequest {
    pub event_id: EventId,
    pub want: Want,
}

impl TryFrom<HoldInput> for HoldRequest {
    type Error = Error;

    /// # Errors
    /// 400 `VALIDATION_FAILED` naming the field (`eventId`, `seats[2]`, `quantity`, …).
    fn try_from(input: HoldInput) -> Result<Self, Error> {
        let event_id = EventId::parse(
            input
                .event_id
                .as_deref()
                .ok_or_else(|| Error::invalid("eventId", "is required"))?,
        )
        .map_err(|m| Error::invalid("eventId", m))?;
        let want = match (input.seats, input.ticket_type_id, input.quantity) {
            (Some(seats), None, None) => Want::Seats(parse_seats(seats)?),
            (None, Some(ticket_type_id), quantity) => Want::Quantity {
                ticket_type_id: TicketTypeId::parse(&ticket_type_id)
                    .map_err(|m| Error::invalid("ticketTypeId", m))?,
                quantity: parse_quantity(quantity)?,
            },
            (None, None, _) => {
                return Err(Error::invalid(
                    "body",
                    "send either seats or ticketTypeId and quantity",
                ));
            }
            (Some(_), _, _) => {
                return Err(Error::invalid(
                    "seats",
                    "send either seats or ticketTypeId and quantity, not both",
                ));
            }
        };
        Ok(HoldRequest { event_id, want })
    }
}

fn parse_seats(seats: Vec<String>) -> Result<Vec<SeatLabel>, Error> {
    if seats.is_empty() || seats.len() > MAX_UNITS_PER_HOLD as usize {
        return Err(Error::invalid(
            "seats",
            format!("must list 1 to {MAX_UNITS_PER_HOLD} seats"),
        ));
    }
    let mut seen = HashSet::with_capacity(seats.len());
    seats
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let label =
                SeatLabel::parse(raw).map_err(|m| Error::invalid(format!("seats[{i}]"), m))?;
            if !seen.insert(label.as_str().to_owned()) {
                return Err(Error::invalid(
                    format!("seats[{i}]"),
                    format!("{:?} is listed twice", label.as_str()),
                ));
            }
            Ok(label)
        })
        .collect()
}

fn parse_quantity(quantity: Option<i64>) -> Result<u32, Error> {
    let quantity = quantity.ok_or_else(|| Error::invalid("quantity", "is required"))?;
    u32::try_from(quantity)
        .ok()
        .filter(|q| (1..=MAX_UNITS_PER_HOLD).contains(q))
        .ok_or_else(|| {
            Error::invalid(
                "quantity",
                format!("must be between 1 and {MAX_UNITS_PER_HOLD}"),
            )
        })
}

/// A hold's id: `hld_` + 20 lower-case hex digits (80 random bits).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct HoldId(String);

impl HoldId {
    const PREFIX: &'static str = "hld_";

    /// A fresh random id.
    ///
    /// # Errors
    /// 503 `RNG_UNAVAILABLE` when the platform's generator fails.
    pub fn generate(rng: &impl Rng) -> Result<Self, Error> {
        Ok(HoldId(format!("{}{}", Self::PREFIX, rng.hex(10)?)))
    }

    /// Parses an id as this API prints it; `None` for anything else.
    pub fn parse(s: &str) -> Option<Self> {
        let hex = s.strip_prefix(Self::PREFIX)?;
        (hex.len() == 20 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| HoldId(s.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for HoldId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    const EVT: &str = "evt_00000000000000000001";
    const TT: &str = "tt_00000000000000000001";

    fn parse(body: Value) -> Result<HoldRequest, Error> {
        let input: HoldInput =
            serde_json::from_value(body).map_err(|e| Error::invalid("body", e.to_string()))?;
        HoldRequest::try_from(input)
    }

    fn field_of(result: Result<HoldRequest, Error>) -> String {
        match result {
            Err(Error::Invalid { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn parses_seat_lists_and_quantities() {
        let seats = parse(json!({"eventId": EVT, "seats": ["A-1", " A-2 "]})).expect("valid");
        assert_eq!(seats.event_id.as_str(), EVT);
        match seats.want {
            Want::Seats(labels) => assert_eq!(
                labels.iter().map(SeatLabel::as_str).collect::<Vec<_>>(),
                ["A-1", "A-2"]
            ),
            other => panic!("{other:?}"),
        }
        let ga = parse(json!({"eventId": EVT, "ticketTypeId": TT, "quantity": 3})).expect("valid");
        assert!(matches!(ga.want, Want::Quantity { quantity: 3, .. }));
    }

    #[test]
    fn errors_name_the_field() {
        assert_eq!(field_of(parse(json!({"seats": ["A"]}))), "eventId");
        assert_eq!(
            field_of(parse(json!({"eventId": TT, "seats": ["A"]}))),
            "eventId"
        );
        assert_eq!(field_of(parse(json!({"eventId": EVT}))), "body");
        assert_eq!(
            field_of(parse(json!({"eventId": EVT, "seats": []}))),
            "seats"
        );
        assert_eq!(
            field_of(parse(json!({"eventId": EVT, "seats": ["A", ""]}))),
            "seats[1]"
        );
        assert_eq!(
            field_of(parse(json!({"eventId": EVT, "seats": ["A", "B", "A"]}))),
            "seats[2]"
        );
        let too_many: Vec<String> = (0..=MAX_UNITS_PER_HOLD).map(|i| i.to_string()).collect();
        assert_eq!(
            field_of(parse(json!({"eventId": EVT, "seats": too_many}))),
            "seats"
        );
        assert_eq!(
            field_of(parse(
                json!({"eventId": EVT, "seats": ["A"], "ticketTypeId": TT})
            )),
            "seats"
        );
        assert_eq!(
            field_of(parse(
                json!({"eventId": EVT, "ticketTypeId": EVT, "quantity": 1})
            )),
            "ticketTypeId"
        );
        for quantity in [
            json!(0),
            json!(-1),
            json!(MAX_UNITS_PER_HOLD + 1),
            json!(null),
        ] {
            assert_eq!(
                field_of(parse(
                    json!({"eventId": EVT, "ticketTypeId": TT, "quantity": quantity})
                )),
                "quantity"
            );
        }
    }

    #[test]
    fn hold_ids_round_trip() {
        struct Ones;
        impl Rng for Ones {
            fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
                buf.fill(0x11);
                Ok(())
            }
        }
        let id = HoldId::generate(&Ones).expect("the fake never fails");
        assert_eq!(id.as_str(), "hld_11111111111111111111");
        assert_eq!(HoldId::parse(id.as_str()), Some(id));
        assert_eq!(HoldId::parse("hld_1111111111111111111"), None);
        assert_eq!(HoldId::parse("hld_1111111111111111111A"), None);
        assert_eq!(HoldId::parse("evt_11111111111111111111"), None);
    }

    #[test]
    fn odd_input_is_an_error_not_a_panic() {
        for s in ["", "hld_", "hld_\u{e9}\u{e9}", "\u{0}", &"x".repeat(10_000)] {
            assert_eq!(HoldId::parse(s), None);
            assert!(parse(json!({"eventId": s, "seats": [s]})).is_err());
        }
        for q in [i64::MIN, i64::MAX, u32::MAX as i64 + 1] {
            assert!(parse(json!({"eventId": EVT, "ticketTypeId": TT, "quantity": q})).is_err());
        }
    }
}
