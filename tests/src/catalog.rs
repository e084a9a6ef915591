//! Events for the sale tests and the benchmark, created through the API as an organizer
//! would: ticket types, a seat map, optional sale settings, then publish.

use crate::App;
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;

/// The organizer every test event belongs to (anvil's first account).
pub const ORGANIZER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
/// When test events happen (2030); sales have their own window.
pub const EVENT_STARTS_AT: i64 = 1_900_000_000_000;

/// Seat `n`'s label: `S-000`, `S-001`, …
pub fn seat(n: usize) -> String {
    format!("S-{n:03}")
}

/// What [`publish_event`] creates.
#[derive(Debug, Clone)]
pub struct EventSpec<'a> {
    pub title: &'a str,
    /// Seats of a type sold by seat (`Seated`); 0: no such type.
    pub seats: usize,
    pub seat_price: &'a str,
    /// Units of a general-admission type (`GA`); 0: no such type.
    pub ga_supply: u32,
    pub ga_price: &'a str,
    pub currency: &'a str,
    /// Per-wallet limit of both types (`None`: none).
    pub per_wallet_limit: Option<u32>,
    /// Sale settings to `PUT /v1/events/{id}/sale` before publishing.
    pub sale: Option<Value>,
    /// When the event starts (ms); it lasts two hours.
    pub starts_at: i64,
}

impl EventSpec<'_> {
    /// `seats` seats at 5000 and `ga_supply` GA units at 2000, in USD, no limits, no sale
    /// settings.
    pub fn new(seats: usize, ga_supply: u32) -> Self {
        EventSpec {
            title: "Flash sale",
            seats,
            seat_price: "5000",
            ga_supply,
            ga_price: "2000",
            currency: "USD",
            per_wallet_limit: None,
            sale: None,
            starts_at: EVENT_STARTS_AT,
        }
    }
}

/// The ids of a published test event.
#[derive(Debug, Clone)]
pub struct PublishedEvent {
    pub id: String,
    pub seated: Option<String>,
    pub ga: Option<String>,
}

impl PublishedEvent {
    /// The seated type's id.
    pub fn seated(&self) -> &str {
        self.seated.as_deref().expect("the event has seats")
    }

    /// The GA type's id.
    pub fn ga(&self) -> &str {
        self.ga.as_deref().expect("the event has a GA type")
    }
}

/// Creates and publishes the event `spec` describes, asserting every step.
pub async fn publish_event(app: &App, spec: &EventSpec<'_>) -> PublishedEvent {
    let token = app.token_for(ORGANIZER, Role::Organizer);
    let send = |method: Method, path: String, body: Option<Value>| {
        let token = token.clone();
        async move { app.send(method, &path, Some(&token), body, &[]).await }
    };
    let event = send(
        Method::POST,
        "/v1/events".into(),
        Some(json!({"title": spec.title, "startsAt": spec.starts_at,
                    "endsAt": spec.starts_at + 7_200_000})),
    )
    .await;
    assert_eq!(event.status, 201, "{}", event.body);
    let id = event.body["id"].as_str().expect("id").to_owned();
    let type_of = |name: &'static str, price: &str, supply: u32| {
        let mut body = json!({"name": name, "price": price, "currency": spec.currency,
                              "supply": supply});
        if let Some(limit) = spec.per_wallet_limit {
            body["perWalletLimit"] = json!(limit);
        }
        send(
            Method::POST,
            format!("/v1/events/{id}/ticket-types"),
            Some(body),
        )
    };
    let seated = if spec.seats > 0 {
        let tt = type_of("Seated", spec.seat_price, spec.seats as u32).await;
        assert_eq!(tt.status, 201, "{}", tt.body);
        Some(tt.body["id"].as_str().expect("tt id").to_owned())
    } else {
        None
    };
    let ga = if spec.ga_supply > 0 {
        let tt = type_of("GA", spec.ga_price, spec.ga_supply).await;
        assert_eq!(tt.status, 201, "{}", tt.body);
        Some(tt.body["id"].as_str().expect("tt id").to_owned())
    } else {
        None
    };
    if let Some(tt) = &seated {
        let map: Vec<Value> = (0..spec.seats)
            .map(|n| json!({"label": seat(n), "ticketTypeId": tt}))
            .collect();
        let put = send(
            Method::PUT,
            format!("/v1/events/{id}/seats"),
            Some(json!({ "seats": map })),
        )
        .await;
        assert_eq!(put.status, 200, "{}", put.body);
    }
    if let Some(sale) = &spec.sale {
        let put = send(
            Method::PUT,
            format!("/v1/events/{id}/sale"),
            Some(sale.clone()),
        )
        .await;
        assert_eq!(put.status, 200, "{}", put.body);
    }
    let published = send(Method::POST, format!("/v1/events/{id}/publish"), None).await;
    assert_eq!(published.status, 200, "{}", published.body);
    PublishedEvent { id, seated, ga }
}

/// `GET /v1/events/{id}/availability`, asserted 200.
pub async fn availability(app: &App, event_id: &str) -> Value {
    let reply = app
        .send(
            Method::GET,
            &format!("/v1/events/{event_id}/availability"),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// `(held, sold, free)` of a ticket type in an availability body.
pub fn type_counts(body: &Value, tt: &str) -> (i64, i64, i64) {
    let entry = body["ticketTypes"]
        .as_array()
        .and_then(|types| types.iter().find(|t| t["ticketTypeId"] == tt))
        .expect("ticket type listed");
    let n = |k: &str| entry[k].as_i64().expect("count");
    (n("held"), n("sold"), n("free"))
}

/// Sends every `(token, body)` hold at once (at most 200 in flight) and returns the replies as
/// `(status, body)` in request order.
pub async fn hold_burst(app: &App, requests: Vec<(String, Value)>) -> Vec<(u16, Value)> {
    let requests = requests
        .into_iter()
        .map(|(token, body)| {
            app.request(Method::POST, "/v1/holds")
                .bearer_auth(token)
                .json(&body)
        })
        .collect();
    app.burst(requests, 200).await
}
