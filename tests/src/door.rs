//! The door from a test's side: a verifier key for an event, and a holder's ticket codes.

use crate::catalog::ORGANIZER;
use crate::{App, Reply};
use reqwest::Method;
use serde_json::json;
use shared::domain::Role;

/// Creates a verifier key `name` for `event_id` as the organizer; returns the key text.
pub async fn verifier_key(app: &App, event_id: &str, name: &str) -> String {
    let organizer = app.token_for(ORGANIZER, Role::Organizer);
    let created = app
        .send(
            Method::POST,
            &format!("/v1/events/{event_id}/verifier-keys"),
            Some(&organizer),
            Some(json!({"name": name})),
            &[],
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["key"].as_str().expect("key").to_owned()
}

/// `GET /v1/tickets/{ticket}/qr` as `wallet`.
pub async fn codes(app: &App, wallet: &str, ticket: &str) -> Reply {
    let token = app.token_for(wallet, Role::User);
    app.send(
        Method::GET,
        &format!("/v1/tickets/{ticket}/qr"),
        Some(&token),
        None,
        &[],
    )
    .await
}

/// `(online code, offline pass)` of a ticket.
pub async fn code_pair(app: &App, wallet: &str, ticket: &str) -> (String, String) {
    let reply = codes(app, wallet, ticket).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    (
        reply.body["online"]["code"]
            .as_str()
            .expect("online")
            .to_owned(),
        reply.body["offline"]["pass"]
            .as_str()
            .expect("pass")
            .to_owned(),
    )
}
