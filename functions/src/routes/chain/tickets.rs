//! `GET /v1/chain/tickets/{tokenId}` (old path `/v1/tickets/{tokenId}`, an alias) and `GET /v1/wallets/{address}/tickets`.

use super::input::{ChainUint, WalletTicketsQuery};
use super::view::{TICKET_COLUMNS, TICKET_FROM, TRANSFER_COLUMNS, Ticket, TicketDetail};
use super::{PageQuery, live};
use crate::call::Call;
use crate::http::Response;
use crate::services::Services;
use shared::error::Error;
use shared::ports::Sql;
use shared::sql::Statement;

/// `GET /v1/chain/tickets/{tokenId}`: a chain ticket with its transfer history, oldest first.
///
/// # Errors
/// 400 `VALIDATION_FAILED` (`tokenId`) unless a decimal uint256; 404 `TICKET_NOT_FOUND`;
/// 503/500.
pub(super) async fn get<S: Services>(services: &S, call: &Call<'_>) -> Result<Response, Error> {
    let token_id = ChainUint::param("tokenId", call.params.get("tokenId"))?;
    // One statement, so the ticket and its history come from one snapshot. A log index is
    // unique within a block, so (block, log index) is the chain's order of transfers.
    let rows = services
        .sql()
        .execute(
            Statement::new(format!(
                "SELECT {TICKET_COLUMNS}, {TRANSFER_COLUMNS} FROM {TICKET_FROM} \
                 LEFT JOIN transfers x ON x.token_id = t.token_id \
                 WHERE t.token_id = ? ORDER BY x.block_number, x.log_index"
            ))
            .bind(token_id.as_str()),
        )
        .await?;
    let detail = TicketDetail::from_rows(&rows)?.ok_or_else(|| {
        Error::not_found(
            "TICKET_NOT_FOUND",
            format!("there is no ticket with token id {}", token_id.as_str()),
        )
    })?;
    Ok(live(&detail))
}

/// `GET /v1/wallets/{address}/tickets`: the chain tickets a wallet holds now, by token id.
///
/// # Errors
/// 400 `VALIDATION_FAILED` naming `address`, `status`, `eventId`, `page` or `pageSize`;
/// 503/500.
pub(super) async fn list_owned<S: Services>(
    services: &S,
    call: &Call<'_>,
) -> Result<Response, Error> {
    let query = WalletTicketsQuery::parse(call.params.get("address"), &call.query)?;
    let page = PageQuery {
        from: TICKET_FROM,
        columns: TICKET_COLUMNS,
        filter: query.filter(),
        order_by: query.order_by(),
        page: query.page,
    }
    .fetch(services, Ticket::from_row)
    .await?;
    Ok(live(&page))
}
