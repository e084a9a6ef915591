//! `GET /v1/tickets/{ticketId}/qr` and `/qr.svg`: the holder's codes (online and offline pass), as
//! JSON or as an SVG QR image.

use crate::call::Call;
use crate::checkin::passes;
use crate::extract::authenticate_token;
use crate::gate::Gate;
use crate::http::Response;
use crate::router::Route;
use crate::services::Services;
use shared::checkin::svg;
use shared::error::Error;

/// Dispatches the ticket-code routes (GET only, see the router).
///
/// # Errors
/// 401 without a valid token; 404 `TICKET_NOT_FOUND` (also another holder's ticket); 409
/// `TICKET_REVOKED`; 400 for an unknown `kind`.
pub async fn dispatch<S: Services>(
    services: &S,
    route: Route,
    call: &Call<'_>,
) -> Result<Response, Error> {
    // One round trip for the rate limit and the token's revocation.
    let caller = authenticate_token(services, call.request)?;
    Gate::new(services, call, Some(&caller))
        .pass(services, call)
        .await?;
    let ticket_id = call.params.get("ticketId");
    let codes = passes::codes_for(services, ticket_id, &caller.wallet.checksummed()).await?;
    let mut response = if route == Route::TicketQrSvg {
        let text = match call.query.get("kind").unwrap_or("online") {
            "online" => &codes.online,
            "offline" => &codes.pass,
            _ => return Err(Error::invalid("kind", "must be online or offline")),
        };
        let image = svg::render(text, 6)
            .map_err(|e| Error::Internal(format!("QR rendering failed: {e}")))?;
        Response::with_body(200, "image/svg+xml", image.into_bytes())
    } else {
        Response::json(
            200,
            &codes.json(ticket_id, services.config().checkin.code_ttl_secs),
        )
    };
    // A code is a bearer credential: never cached by a proxy or the browser.
    response.headers.set("cache-control", "no-store");
    Ok(response)
}
