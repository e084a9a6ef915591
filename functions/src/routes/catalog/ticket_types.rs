//! `POST|GET /v1/events/{id}/ticket-types`.

use super::events::public_event;
use super::record::{TICKET_TYPE_COLUMNS, ticket_type_json};
use super::write::{
    EventWrite, check_editable, now_ms, organizer, owned_event, runs_existing_event, written,
};
use super::{event_id, not_found};
use crate::audit;
use crate::cache::cached_json;
use crate::call::Call;
use crate::extract::{authenticate, json_body};
use crate::http::Response;
use crate::keys;
use crate::services::Services;
use serde::Deserialize;
use serde_json::json;
use shared::domain::{
    Amount, Currency, EventId, PerWalletLimit, Role, SaleWindow, Supply, TicketTypeId,
    TicketTypeName, Timestamp,
};
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::Statement;

/// The body of `POST /v1/events/{id}/ticket-types`. Fields are optional here so a missing
/// one is reported by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct TicketTypeInput {
    name: Option<String>,
    /// A string: amounts in wei do not fit a JSON number.
    price: Option<String>,
    currency: Option<String>,
    supply: Option<i64>,
    per_wallet_limit: Option<i64>,
    sale_starts_at: Option<i64>,
    sale_ends_at: Option<i64>,
}

/// A parsed ticket type, before it is given an id.
#[derive(Debug, Clone, PartialEq)]
struct NewTicketType {
    name: TicketTypeName,
    price: Amount,
    currency: Currency,
    supply: Supply,
    per_wallet_limit: Option<PerWalletLimit>,
    sale: SaleWindow,
}

fn field<T>(value: Option<T>, name: &str) -> Result<T, Error> {
    value.ok_or_else(|| Error::invalid(name, "is required"))
}

impl TryFrom<TicketTypeInput> for NewTicketType {
    type Error = Error;

    fn try_from(input: TicketTypeInput) -> Result<Self, Error> {
        let invalid = |name: &'static str| move |m: String| Error::invalid(name, m);
        let time = |ms: Option<i64>, name: &'static str| {
            ms.map(|ms| Timestamp::from_ms(ms).map_err(invalid(name)))
                .transpose()
        };
        let sale_start = time(input.sale_starts_at, "saleStartsAt")?;
        let sale_end = time(input.sale_ends_at, "saleEndsAt")?;
        Ok(NewTicketType {
            name: TicketTypeName::parse(&field(input.name, "name")?).map_err(invalid("name"))?,
            price: Amount::parse(&field(input.price, "price")?).map_err(invalid("price"))?,
            currency: Currency::parse(&field(input.currency, "currency")?)
                .map_err(invalid("currency"))?,
            supply: Supply::new(field(input.supply, "supply")?).map_err(invalid("supply"))?,
            per_wallet_limit: input
                .per_wallet_limit
                .map(PerWalletLimit::new)
                .transpose()
                .map_err(invalid("perWalletLimit"))?,
            sale: SaleWindow::new(sale_start, sale_end).map_err(invalid("saleEndsAt"))?,
        })
    }
}

/// `POST /v1/events/{id}/ticket-types`.
///
/// # Errors
/// 401; 403 `FORBIDDEN_ROLE` / `EVENT_NOT_OWNER`; 404 `EVENT_NOT_FOUND`; 400
/// `VALIDATION_FAILED`; 409 `EVENT_STATE_CONFLICT` / `EVENT_CHANGED` /
/// `TICKET_TYPE_NAME_TAKEN` (names are unique per event, ignoring ASCII case); 422
/// `SALE_WINDOW_OUTSIDE_EVENT`.
pub async fn create<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let caller = organizer(services, call).await?;
    let id = event_id(call)?;
    let new = NewTicketType::try_from(json_body::<TicketTypeInput>(call.request)?)?;
    let event = owned_event(services, &caller, &id).await?;
    check_editable(&event)?;
    let (window, event_sale) = (event.fields.window, event.fields.sale);
    if !new.sale.within(&event_sale, &window) {
        return Err(Error::unprocessable(
            "SALE_WINDOW_OUTSIDE_EVENT",
            "the ticket type's sale window must lie within the event's sale window \
             (which ends with the event at the latest)",
        ));
    }
    let type_id = TicketTypeId::generate(services.rng())?;
    let now = now_ms(services);
    // The guard pins exactly what was checked: the status and the windows.
    let mut write = EventWrite::guarded(
        &id,
        "status IN ('draft', 'published') AND starts_at = ? AND ends_at = ? \
         AND sale_starts_at IS ? AND sale_ends_at IS ?",
        [
            window.start().ms().into(),
            window.end().ms().into(),
            event_sale.start().map(Timestamp::ms).into(),
            event_sale.end().map(Timestamp::ms).into(),
        ],
    );
    write
        .push(
            Statement::new(
                "INSERT INTO ticket_types (id, event_id, name, price, currency, supply, \
                 per_wallet_limit, sale_starts_at, sale_ends_at, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(type_id.as_str())
            .bind(id.as_str())
            .bind(new.name.as_str())
            .bind(new.price.to_string())
            .bind(new.currency.to_string())
            .bind(new.supply.get())
            .bind(new.per_wallet_limit.map(PerWalletLimit::get))
            .bind(new.sale.start().map(Timestamp::ms))
            .bind(new.sale.end().map(Timestamp::ms))
            .bind(now),
        )
        .push(audit::entry(
            &caller.wallet,
            "ticket_type.create",
            id.as_str(),
            &json!({ "ticketTypeId": type_id, "name": new.name.as_str() }),
            call.request_id,
            now as u64,
        ));
    write.commit(services).await?;
    let body = json!({
        "id": type_id,
        "eventId": id,
        "name": new.name.as_str(),
        "price": new.price,
        "currency": new.currency,
        "supply": new.supply,
        "perWalletLimit": new.per_wallet_limit,
        "saleStartsAt": new.sale.start(),
        "saleEndsAt": new.sale.end(),
        "createdAt": now,
    });
    Ok(written(201, &body, None))
}

/// `GET /v1/events/{id}/ticket-types`: in the order they were added. The public reads
/// published and cancelled events through the read cache; the event's organizer or an admin
/// also reads a draft's (uncached: a draft changes while it is built, and the cache is
/// shared with the public).
///
/// # Errors
/// 404 `EVENT_NOT_FOUND` (missing event, or a draft and the caller may not change it);
/// 503/500.
pub async fn list<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let id = &event_id(call)?;
    let public = cached_json(
        services,
        call.request,
        keys::event_cache(services, id.as_str()),
        "types",
        || async move {
            let (event, items) = futures::join!(public_event(services, id), read(services, id));
            event?;
            Ok(json!({ "eventId": id, "items": items? }))
        },
    )
    .await;
    match public {
        Err(Error::Client { status: 404, .. })
            if call.request.headers.get("authorization").is_some() =>
        {
            draft(services, call, id).await
        }
        other => other,
    }
}

/// A draft's ticket types for its organizer or an admin. Anyone else, a caller whose token
/// does not authenticate included, sees what the public sees: 404.
async fn draft<S: Services>(
    services: &S,
    call: &Call<'_>,
    id: &EventId,
) -> Result<Response, Error> {
    let hidden = || not_found(id.as_str());
    let caller = match authenticate(services, call.request).await {
        Ok(caller) if caller.role >= Role::Organizer => caller,
        Err(e) if e.status() >= 500 => return Err(e),
        _ => return Err(hidden()),
    };
    if !runs_existing_event(services, &caller, id).await? {
        return Err(hidden());
    }
    let items = read(services, id).await?;
    let mut response = Response::json(200, &json!({ "eventId": id, "items": items }));
    response.headers.set("cache-control", "private, no-store");
    Ok(response)
}

/// Event `id`'s ticket types as the API shows them, in the order they were added.
async fn read<S: Services>(services: &S, id: &EventId) -> Result<Vec<serde_json::Value>, Error> {
    let types = Statement::new(format!(
        "SELECT {TICKET_TYPE_COLUMNS} FROM ticket_types WHERE event_id = ? ORDER BY rowid"
    ))
    .bind(id.as_str());
    services
        .sql()
        .execute(types)
        .await?
        .iter()
        .map(|row| ticket_type_json(&row))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> Result<NewTicketType, Error> {
        let input: TicketTypeInput =
            serde_json::from_value(json).map_err(|e| Error::invalid("body", e.to_string()))?;
        NewTicketType::try_from(input)
    }

    fn field_of(result: Result<NewTicketType, Error>) -> String {
        match result {
            Err(Error::Invalid { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn parses_a_complete_ticket_type() {
        let parsed = input(json!({
            "name": "VIP", "price": "1000000000000000000", "currency": "ETH", "supply": 0,
            "perWalletLimit": 2, "saleStartsAt": 10, "saleEndsAt": 20
        }))
        .expect("valid");
        assert_eq!(parsed.price.to_string(), "1000000000000000000");
        assert_eq!(parsed.supply.get(), 0);
        assert_eq!(parsed.per_wallet_limit.map(PerWalletLimit::get), Some(2));
    }

    #[test]
    fn names_the_bad_field() {
        let base = json!({"name": "GA", "price": "100", "currency": "USD", "supply": 5});
        let with = |key: &str, value: serde_json::Value| {
            let mut body = base.clone();
            body[key] = value;
            input(body)
        };
        assert_eq!(field_of(with("price", json!("01"))), "price");
        assert_eq!(field_of(with("currency", json!("usd"))), "currency");
        assert_eq!(field_of(with("supply", json!(-1))), "supply");
        assert_eq!(field_of(with("perWalletLimit", json!(0))), "perWalletLimit");
        assert_eq!(field_of(with("name", json!(" "))), "name");
        assert_eq!(field_of(with("saleEndsAt", json!(-1))), "saleEndsAt");
        let mut body = base.clone();
        body["saleStartsAt"] = json!(20);
        body["saleEndsAt"] = json!(10);
        assert_eq!(field_of(input(body)), "saleEndsAt");
        let mut body = base;
        body.as_object_mut().map(|o| o.remove("price"));
        assert_eq!(field_of(input(body)), "price");
    }
}
