//! The body of `POST /v1/events` and `PATCH /v1/events/{id}`, and how it becomes
//! [`EventFields`]: one conversion for both, so creating and editing cannot disagree on a rule.
//! Creating applies the input to nothing (required fields must be present); editing applies it
//! to the stored fields.

use super::record::EventFields;
use super::serde_opt::{nullable, present};
use serde::Deserialize;
use shared::domain::{
    ChainEventId, EventDescription, EventMetadata, EventTitle, SaleWindow, TimeWindow, TimeZone,
    Timestamp, Venue, WalletAddress,
};
use shared::error::Error;

/// The body of `POST /v1/events` (all of `title`, `startsAt`, `endsAt` required) and of
/// `PATCH /v1/events/{id}` (any subset). Fields are optional here so a missing one is
/// reported by name, not as a failure of the whole body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(super) struct EventInput {
    #[serde(default, deserialize_with = "present")]
    title: Option<String>,
    #[serde(default, deserialize_with = "present")]
    description: Option<String>,
    #[serde(default, deserialize_with = "present")]
    venue: Option<String>,
    #[serde(default, deserialize_with = "present")]
    timezone: Option<String>,
    #[serde(default, deserialize_with = "present")]
    starts_at: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    ends_at: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    sale_starts_at: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    sale_ends_at: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    metadata: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "nullable")]
    contract_address: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    chain_event_id: Option<Option<String>>,
}

fn required(field: &str) -> Error {
    Error::invalid(field, "is required")
}

/// Parses `input` with `parse`, naming `field` on failure; records the field as changed.
fn parse_field<T>(
    changed: &mut Vec<&'static str>,
    field: &'static str,
    input: Option<&str>,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Option<T>, Error> {
    input
        .map(|value| {
            changed.push(field);
            parse(value).map_err(|m| Error::invalid(field, m))
        })
        .transpose()
}

fn parse_time(
    changed: &mut Vec<&'static str>,
    field: &'static str,
    input: Option<i64>,
) -> Result<Option<Timestamp>, Error> {
    input
        .map(|ms| {
            changed.push(field);
            Timestamp::from_ms(ms).map_err(|m| Error::invalid(field, m))
        })
        .transpose()
}

/// A nullable field: absent keeps `current`, `null` clears, a value is parsed.
fn parse_nullable<T, I>(
    changed: &mut Vec<&'static str>,
    field: &'static str,
    input: Option<Option<I>>,
    current: Option<T>,
    parse: impl Fn(I) -> Result<T, String>,
) -> Result<Option<T>, Error> {
    match input {
        None => Ok(current),
        Some(value) => {
            changed.push(field);
            value
                .map(|v| parse(v).map_err(|m| Error::invalid(field, m)))
                .transpose()
        }
    }
}

impl EventInput {
    /// Whether the body names no field at all.
    pub(super) fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.venue.is_none()
            && self.timezone.is_none()
            && self.starts_at.is_none()
            && self.ends_at.is_none()
            && self.sale_starts_at.is_none()
            && self.sale_ends_at.is_none()
            && self.metadata.is_none()
            && self.contract_address.is_none()
            && self.chain_event_id.is_none()
    }

    /// The event's fields after applying this input to `base` (`None` when creating), and the
    /// names of the fields the input set.
    ///
    /// # Errors
    /// 400 naming the field; 422 `SALE_WINDOW_OUTSIDE_EVENT`.
    pub(super) fn resolve(
        self,
        base: Option<&EventFields>,
    ) -> Result<(EventFields, Vec<&'static str>), Error> {
        let mut changed = Vec::new();
        let c = &mut changed;
        let title = parse_field(c, "title", self.title.as_deref(), EventTitle::parse)?
            .or_else(|| base.map(|b| b.title.clone()))
            .ok_or_else(|| required("title"))?;
        let description = parse_field(
            c,
            "description",
            self.description.as_deref(),
            EventDescription::parse,
        )?
        .or_else(|| base.map(|b| b.description.clone()));
        let description = match description {
            Some(d) => d,
            None => EventDescription::parse("").map_err(Error::Internal)?,
        };
        let venue = parse_field(c, "venue", self.venue.as_deref(), Venue::parse)?
            .or_else(|| base.map(|b| b.venue.clone()));
        let venue = match venue {
            Some(v) => v,
            None => Venue::parse("").map_err(Error::Internal)?,
        };
        let timezone = parse_field(c, "timezone", self.timezone.as_deref(), TimeZone::parse)?
            .or_else(|| base.map(|b| b.timezone.clone()))
            .unwrap_or_default();

        let start = parse_time(c, "startsAt", self.starts_at)?
            .or_else(|| base.map(|b| b.window.start()))
            .ok_or_else(|| required("startsAt"))?;
        let end = parse_time(c, "endsAt", self.ends_at)?
            .or_else(|| base.map(|b| b.window.end()))
            .ok_or_else(|| required("endsAt"))?;
        let window = TimeWindow::new(start, end).map_err(|m| {
            // Blame the bound the client just sent; when both were sent, the end.
            if self.ends_at.is_none() && self.starts_at.is_some() {
                Error::invalid("startsAt", "must be before endsAt")
            } else {
                Error::invalid("endsAt", m)
            }
        })?;

        let base_sale = base.map(|b| b.sale).unwrap_or_default();
        let sale_start = parse_nullable(
            c,
            "saleStartsAt",
            self.sale_starts_at,
            base_sale.start(),
            Timestamp::from_ms,
        )?;
        let sale_ends_sent = self.sale_ends_at.is_some();
        let sale_end = parse_nullable(
            c,
            "saleEndsAt",
            self.sale_ends_at,
            base_sale.end(),
            Timestamp::from_ms,
        )?;
        let sale = SaleWindow::new(sale_start, sale_end).map_err(|m| {
            if sale_ends_sent {
                Error::invalid("saleEndsAt", m)
            } else {
                Error::invalid("saleStartsAt", "must be before saleEndsAt")
            }
        })?;
        if !sale.fits_event(&window) {
            return Err(Error::unprocessable(
                "SALE_WINDOW_OUTSIDE_EVENT",
                "the sale must start before the event ends and end no later than the event",
            ));
        }

        let metadata = self
            .metadata
            .map(|m| {
                c.push("metadata");
                EventMetadata::parse(m).map_err(|e| Error::invalid("metadata", e))
            })
            .transpose()?
            .or_else(|| base.map(|b| b.metadata.clone()))
            .unwrap_or_default();
        let contract_address = parse_nullable(
            c,
            "contractAddress",
            self.contract_address,
            base.and_then(|b| b.contract_address),
            |a| WalletAddress::parse(&a),
        )?;
        let chain_event_id = parse_nullable(
            c,
            "chainEventId",
            self.chain_event_id,
            base.and_then(|b| b.chain_event_id.clone()),
            |id| ChainEventId::parse(&id),
        )?;
        Ok((
            EventFields {
                title,
                description,
                venue,
                timezone,
                window,
                sale,
                metadata,
                contract_address,
                chain_event_id,
            },
            changed,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::json_body;
    use crate::http::Request;

    fn body(json: &str) -> Result<EventInput, Error> {
        let mut request = Request::new("POST", "/v1/events");
        request.body = json.as_bytes().to_vec();
        json_body::<EventInput>(&request)
    }

    fn create(json: &str) -> Result<EventFields, Error> {
        body(json)?.resolve(None).map(|(fields, _)| fields)
    }

    fn field_of<T: std::fmt::Debug>(result: Result<T, Error>) -> String {
        match result {
            Err(Error::Invalid { field, .. }) => field,
            Err(Error::Client { code, .. }) => code.to_owned(),
            other => format!("{other:?}"),
        }
    }

    const MINIMAL: &str = r#"{"title":"Jazz","startsAt":1000,"endsAt":2000}"#;

    #[test]
    fn create_fills_defaults() {
        let fields = create(MINIMAL).expect("valid");
        assert_eq!(fields.title.as_str(), "Jazz");
        assert_eq!(fields.timezone.as_str(), "UTC");
        assert_eq!(fields.description.as_str(), "");
        assert_eq!(fields.sale, SaleWindow::default());
        assert_eq!(fields.metadata.to_json_text(), "{}");
        assert_eq!(fields.contract_address, None);
    }

    #[test]
    fn create_names_missing_and_bad_fields() {
        assert_eq!(field_of(create(r#"{"title":"x","endsAt":2}"#)), "startsAt");
        assert_eq!(field_of(create(r#"{"startsAt":1,"endsAt":2}"#)), "title");
        assert_eq!(
            field_of(create(r#"{"title":"x","startsAt":"soon","endsAt":2}"#)),
            "startsAt"
        );
        assert_eq!(
            field_of(create(r#"{"title":"x","startsAt":5,"endsAt":5}"#)),
            "endsAt"
        );
        assert_eq!(
            field_of(create(r#"{"title":null,"startsAt":1,"endsAt":2}"#)),
            "title"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":2,"colour":"red"}"#
            )),
            "colour"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":2,"metadata":[]}"#
            )),
            "metadata"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":2,"timezone":"Mars/Base"}"#
            )),
            "timezone"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":2,"contractAddress":"0x12"}"#
            )),
            "contractAddress"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":9,"saleStartsAt":5,"saleEndsAt":4}"#
            )),
            "saleEndsAt"
        );
        assert_eq!(
            field_of(create(
                r#"{"title":"x","startsAt":1,"endsAt":9,"saleEndsAt":10}"#
            )),
            "SALE_WINDOW_OUTSIDE_EVENT"
        );
    }

    #[test]
    fn patch_merges_onto_the_current_fields() {
        let base = create(
            r#"{"title":"Jazz","startsAt":1000,"endsAt":2000,"saleEndsAt":900,
                "contractAddress":"0x70997970c51812dc3a010c7d01b50e0d17dc79c8"}"#,
        )
        .expect("valid");
        let (fields, changed) =
            body(r#"{"title":"Blues","saleEndsAt":null,"contractAddress":null}"#)
                .and_then(|b| b.resolve(Some(&base)))
                .expect("valid");
        assert_eq!(changed, ["title", "saleEndsAt", "contractAddress"]);
        assert_eq!(fields.title.as_str(), "Blues");
        assert_eq!(fields.window, base.window);
        assert_eq!(fields.sale, SaleWindow::default());
        assert_eq!(fields.contract_address, None);
        // Moving only the start past the stored end blames the start.
        let moved = body(r#"{"startsAt":2500}"#).and_then(|b| b.resolve(Some(&base)));
        assert_eq!(field_of(moved), "startsAt");
        assert!(body("{}").expect("parses").is_empty());
    }
}
