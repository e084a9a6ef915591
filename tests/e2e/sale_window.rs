//! One rule for when something is on sale (issue 13, item 1): a hold or an order is refused
//! outside the ticket type's own window, within the sale settings' window, within the event's
//! sale window (which applies without sale settings too); a payment for an order placed in
//! time is honoured after the end. Writes that would put a window outside the event's are 422.
//!
//! Boundaries are tested at ±1 s without long sleeps: each window is set a few seconds ahead
//! of the test's clock (the local Redis, whose `TIME` the scripts use, runs on the same host)
//! and the test sleeps until each probe instant.

use e2e::catalog::{EventSpec, ORGANIZER, publish_event};
use e2e::payments::{now_ms, pay_by_card};
use e2e::{ADMISSION_SECRET, App, Reply, Runtime, Stack};
use reqwest::Method;
use serde_json::{Value, json};
use shared::domain::Role;
use shared::sale::SignedToken;
use std::time::Duration;

const OVERRIDES: &[(&str, &str)] = &[("RATE_LIMIT_WRITE", "100000:100000")];
const HOUR: i64 = 3_600_000;

/// Which window bounds the sale under test.
#[derive(Debug, Clone, Copy)]
enum Bound {
    /// A ticket type's own `saleStartsAt`/`saleEndsAt`.
    TicketType,
    /// `PUT /v1/events/{id}/sale`.
    Settings,
    /// The event's `saleStartsAt`/`saleEndsAt`, without sale settings.
    Event,
}

/// Sleeps until the test clock reads `at` (ms).
async fn until(at: i64) {
    let wait = at - now_ms();
    if wait > 0 {
        tokio::time::sleep(Duration::from_millis(wait as u64)).await;
    }
}

/// An admission token for `wallet` at `event`, as the waiting room signs them.
fn admission(event: &str, wallet: &str) -> String {
    SignedToken::new(ADMISSION_SECRET.as_bytes(), "admission")
        .sign(&json!({"e": event, "w": wallet, "x": now_ms() + HOUR}))
}

struct Buyer<'a> {
    app: &'a App,
    token: String,
    admission: Option<String>,
}

impl Buyer<'_> {
    fn headers<'h>(&'h self, extra: &[(&'h str, &'h str)]) -> Vec<(&'h str, &'h str)> {
        let mut headers = extra.to_vec();
        if let Some(a) = &self.admission {
            headers.push(("x-admission-token", a));
        }
        headers
    }

    async fn hold(&self, event: &str, tt: &str) -> Reply {
        let body = json!({"eventId": event, "ticketTypeId": tt, "quantity": 1});
        self.app
            .send(
                Method::POST,
                "/v1/holds",
                Some(&self.token),
                Some(body),
                &self.headers(&[]),
            )
            .await
    }

    async fn order(&self, hold: &Reply) -> Reply {
        let key = e2e::unique("window");
        self.app
            .send(
                Method::POST,
                "/v1/orders",
                Some(&self.token),
                Some(json!({"holdId": hold.body["holdId"]})),
                &self.headers(&[("idempotency-key", &key)]),
            )
            .await
    }
}

/// One bound, with or without a waiting room: start−1 s refused `SALE_NOT_STARTED`, start+1 s
/// (= end−1 s) holds and orders, end+1 s refuses a hold and an order `SALE_ENDED` while the
/// payment of the order placed in time is honoured.
async fn boundaries(app: &App, bound: Bound, waiting_room: bool, wallet: &str) {
    let label = format!("{bound:?}, waiting room {waiting_room}");
    let organizer = app.token_for(ORGANIZER, Role::Organizer);
    // With a waiting room the settings are open around the bound under test.
    let wide = json!({"startsAt": now_ms() - HOUR, "endsAt": now_ms() + HOUR,
                      "admissionPerMinute": 600, "maxActive": 100_000, "sessionSecs": 600,
                      "waitingRoom": true});
    let event = publish_event(
        app,
        &EventSpec {
            sale: waiting_room.then_some(wide),
            ..EventSpec::new(0, 100)
        },
    )
    .await;
    let id = event.id.as_str();
    let start = now_ms() + 2_500;
    let end = start + 2_000;
    let send = |method: Method, path: String, body: Value| {
        let organizer = organizer.clone();
        async move {
            app.send(method, &path, Some(&organizer), Some(body), &[])
                .await
        }
    };
    let tt = match bound {
        Bound::TicketType => {
            let made = send(
                Method::POST,
                format!("/v1/events/{id}/ticket-types"),
                json!({"name": "Windowed", "price": "2000", "currency": "USD", "supply": 10,
                       "saleStartsAt": start, "saleEndsAt": end}),
            )
            .await;
            assert_eq!(made.status, 201, "{label}: {}", made.body);
            made.body["id"].as_str().expect("id").to_owned()
        }
        Bound::Settings => {
            let put = send(
                Method::PUT,
                format!("/v1/events/{id}/sale"),
                json!({"startsAt": start, "endsAt": end, "admissionPerMinute": 600,
                       "maxActive": 100_000, "sessionSecs": 600, "waitingRoom": waiting_room}),
            )
            .await;
            assert_eq!(put.status, 200, "{label}: {}", put.body);
            event.ga().to_owned()
        }
        Bound::Event => {
            let patch = send(
                Method::PATCH,
                format!("/v1/events/{id}"),
                json!({"saleStartsAt": start, "saleEndsAt": end}),
            )
            .await;
            assert_eq!(patch.status, 200, "{label}: {}", patch.body);
            event.ga().to_owned()
        }
    };
    let buyer = Buyer {
        app,
        token: app.token_for(wallet, Role::User),
        admission: waiting_room.then(|| admission(id, wallet)),
    };

    until(start - 1_000).await;
    let early = buyer.hold(id, &tt).await;
    early.assert_error(409, "SALE_NOT_STARTED", None);

    until(start + 1_000).await;
    let (late_order, in_time) = (buyer.hold(id, &tt).await, buyer.hold(id, &tt).await);
    assert_eq!(late_order.status, 201, "{label}: {}", late_order.body);
    assert_eq!(in_time.status, 201, "{label}: {}", in_time.body);
    let placed = buyer.order(&in_time).await;
    assert_eq!(placed.status, 201, "{label}: {}", placed.body);

    until(end + 1_000).await;
    let after = buyer.hold(id, &tt).await;
    assert_eq!(
        after.body["error_code"], "SALE_ENDED",
        "{label}: {}",
        after.body
    );
    let refused = buyer.order(&late_order).await;
    assert_eq!(
        refused.body["error_code"], "SALE_ENDED",
        "{label}: {}",
        refused.body
    );
    assert_eq!(refused.status, 409, "{label}: {}", refused.body);
    let paid = pay_by_card(app, &placed.body, &format!("evt_{}", e2e::unique("pay"))).await;
    assert_eq!(paid.status, 200, "{label}: {}", paid.body);
    let order_id = placed.body["orderId"].as_str().expect("order id");
    let read = app
        .send(
            Method::GET,
            &format!("/v1/orders/{order_id}"),
            Some(&buyer.token),
            None,
            &[],
        )
        .await;
    assert_eq!(read.body["status"], "paid", "{label}: {}", read.body);
}

/// Every bound, with and without the waiting room, concurrently (each on its own event).
async fn holds_and_orders_keep_to_the_window(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    tokio::join!(
        boundaries(
            &app,
            Bound::TicketType,
            false,
            "0x0000000000000000000000000000000000007001"
        ),
        boundaries(
            &app,
            Bound::TicketType,
            true,
            "0x0000000000000000000000000000000000007002"
        ),
        boundaries(
            &app,
            Bound::Settings,
            false,
            "0x0000000000000000000000000000000000007003"
        ),
        boundaries(
            &app,
            Bound::Settings,
            true,
            "0x0000000000000000000000000000000000007004"
        ),
        boundaries(
            &app,
            Bound::Event,
            false,
            "0x0000000000000000000000000000000000007005"
        ),
    );
}

/// Windows are written inside the event's sale window: a ticket type's, the sale settings',
/// and an event change that would leave the sale settings outside.
async fn windows_lie_inside_the_event(runtime: Runtime) {
    let stack = Stack::start().await;
    let app = App::spawn(runtime, &stack, OVERRIDES).await;
    let organizer = app.token_for(ORGANIZER, Role::Organizer);
    let event = publish_event(&app, &EventSpec::new(0, 10)).await;
    let id = event.id.as_str();
    let starts = e2e::catalog::EVENT_STARTS_AT;
    let ends = starts + 2 * HOUR;
    let send = |method: Method, path: String, body: Value| {
        let organizer = organizer.clone();
        let app = &app;
        async move {
            app.send(method, &path, Some(&organizer), Some(body), &[])
                .await
        }
    };
    let settings = |from: i64, to: i64| {
        json!({"startsAt": from, "endsAt": to, "admissionPerMinute": 600,
               "maxActive": 1000, "sessionSecs": 600, "waitingRoom": false})
    };
    let sale = format!("/v1/events/{id}/sale");
    // Selling past the event's end is outside its sale window.
    send(Method::PUT, sale.clone(), settings(starts, ends + 1))
        .await
        .assert_error(422, "SALE_WINDOW_OUTSIDE_EVENT", None);
    let types = format!("/v1/events/{id}/ticket-types");
    send(
        Method::POST,
        types.clone(),
        json!({"name": "Late", "price": "1", "currency": "USD", "supply": 1,
               "saleEndsAt": ends + 1}),
    )
    .await
    .assert_error(422, "SALE_WINDOW_OUTSIDE_EVENT", None);
    // The event's own sale window narrows what the settings may say.
    let patch = send(
        Method::PATCH,
        format!("/v1/events/{id}"),
        json!({"saleStartsAt": starts - 10 * HOUR, "saleEndsAt": starts - HOUR}),
    )
    .await;
    assert_eq!(patch.status, 200, "{}", patch.body);
    send(
        Method::PUT,
        sale.clone(),
        settings(starts - 11 * HOUR, starts - 2 * HOUR),
    )
    .await
    .assert_error(422, "SALE_WINDOW_OUTSIDE_EVENT", None);
    send(
        Method::PUT,
        sale.clone(),
        settings(starts - 9 * HOUR, starts),
    )
    .await
    .assert_error(422, "SALE_WINDOW_OUTSIDE_EVENT", None);
    let inside = send(
        Method::PUT,
        sale.clone(),
        settings(starts - 9 * HOUR, starts - 2 * HOUR),
    )
    .await;
    assert_eq!(inside.status, 200, "{}", inside.body);
    // Moving the event's sale window off the settings is refused too.
    send(
        Method::PATCH,
        format!("/v1/events/{id}"),
        json!({"saleStartsAt": starts - 5 * HOUR}),
    )
    .await
    .assert_error(422, "SALE_WINDOW_OUTSIDE_EVENT", None);
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_holds_and_orders_keep_to_the_window() {
    holds_and_orders_keep_to_the_window(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_holds_and_orders_keep_to_the_window() {
    holds_and_orders_keep_to_the_window(Runtime::Wasmtime).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn workerd_windows_lie_inside_the_event() {
    windows_lie_inside_the_event(Runtime::Workerd).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn wasmtime_windows_lie_inside_the_event() {
    windows_lie_inside_the_event(Runtime::Wasmtime).await;
}
