//! Projection rows as typed records, serialised as the API's JSON views (camelCase, EIP-55
//! addresses, decimal-string ids and amounts, block numbers as integers).
//!
//! Stored values are parsed back through the same types as client input: a row that does not
//! parse is an indexer bug or a hand edit, reported as an internal error rather than served.

use super::input::{ChainUint, ListingStatus, TicketStatus};
use serde::Serialize;
use shared::domain::{Amount, Currency, EventId, WalletAddress};
use shared::error::Error;
use shared::sql::{FromSql, Row, Rows};

fn col<T: FromSql>(row: &Row<'_>, name: &str) -> Result<T, Error> {
    row.get(name).map_err(Error::from)
}

fn corrupt(what: &str, why: impl std::fmt::Display) -> Error {
    Error::Internal(format!("stored {what} does not parse: {why}"))
}

fn uint(row: &Row<'_>, name: &str) -> Result<ChainUint, Error> {
    ChainUint::parse(&col::<String>(row, name)?).map_err(|e| corrupt(name, e))
}

fn opt_uint(row: &Row<'_>, name: &str) -> Result<Option<ChainUint>, Error> {
    col::<Option<String>>(row, name)?
        .map(|s| ChainUint::parse(&s).map_err(|e| corrupt(name, e)))
        .transpose()
}

fn address(row: &Row<'_>, name: &str) -> Result<WalletAddress, Error> {
    WalletAddress::parse(&col::<String>(row, name)?).map_err(|e| corrupt(name, e))
}

fn amount(row: &Row<'_>, name: &str) -> Result<Amount, Error> {
    Amount::parse(&col::<String>(row, name)?).map_err(|e| corrupt(name, e))
}

/// A transaction hash: `0x` + 64 hex digits, served lower-case.
fn tx_hash(name: &str, s: &str) -> Result<String, Error> {
    let ok =
        s.len() == 66 && s.starts_with("0x") && s.bytes().skip(2).all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(corrupt(name, format!("{s:?} is not a transaction hash")))
    }
}

fn unsigned(row: &Row<'_>, name: &str) -> Result<u64, Error> {
    let n: i64 = col(row, name)?;
    u64::try_from(n).map_err(|e| corrupt(name, e))
}

fn opt_unsigned(row: &Row<'_>, name: &str) -> Result<Option<u64>, Error> {
    col::<Option<i64>>(row, name)?
        .map(|n| u64::try_from(n).map_err(|e| corrupt(name, e)))
        .transpose()
}

/// The `FROM` of ticket reads: a chain ticket and the public catalog event linked to its chain
/// event. Drafts are not public, so a draft's id is never revealed through a ticket.
pub(super) const TICKET_FROM: &str = "tickets t LEFT JOIN events e \
     ON e.chain_event_id = t.event_id AND e.status <> 'draft'";

/// The columns [`Ticket::from_row`] reads (over [`TICKET_FROM`]).
pub(super) const TICKET_COLUMNS: &str = "t.token_id, t.event_id, e.id AS catalog_event_id, \
     t.ticket_type_id, t.owner, t.status, t.mint_tx, t.mint_block";

/// A chain ticket, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Ticket {
    pub token_id: ChainUint,
    /// The chain event id.
    pub event_id: ChainUint,
    /// The public catalog event linked to the chain event, if any.
    pub catalog_event_id: Option<EventId>,
    /// The chain ticket type id.
    pub type_id: Option<ChainUint>,
    pub owner: WalletAddress,
    pub status: TicketStatus,
    pub mint_tx: Option<String>,
    pub mint_block: Option<u64>,
}

impl Ticket {
    /// Reads a row selected with [`TICKET_COLUMNS`].
    ///
    /// # Errors
    /// Internal when the row does not parse.
    pub fn from_row(row: &Row<'_>) -> Result<Self, Error> {
        let status: String = col(row, "status")?;
        Ok(Ticket {
            token_id: uint(row, "token_id")?,
            event_id: uint(row, "event_id")?,
            catalog_event_id: col::<Option<String>>(row, "catalog_event_id")?
                .map(|id| EventId::parse(&id).map_err(|e| corrupt("catalog_event_id", e)))
                .transpose()?,
            type_id: opt_uint(row, "ticket_type_id")?,
            owner: address(row, "owner")?,
            status: TicketStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            mint_tx: col::<Option<String>>(row, "mint_tx")?
                .map(|tx| tx_hash("mint_tx", &tx))
                .transpose()?,
            mint_block: opt_unsigned(row, "mint_block")?,
        })
    }
}

/// The transfer columns of a ticket detail (over `transfers x`, `NULL` when a ticket has none).
pub(super) const TRANSFER_COLUMNS: &str = "x.from_address AS transfer_from, \
     x.to_address AS transfer_to, x.block_number AS transfer_block, x.tx_hash AS transfer_tx, \
     x.log_index AS transfer_log_index";

/// One ERC-721 `Transfer` of a ticket (the mint is the one from the zero address).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Transfer {
    pub from: WalletAddress,
    pub to: WalletAddress,
    pub block_number: u64,
    pub tx_hash: String,
    pub log_index: u64,
}

impl Transfer {
    /// Reads the [`TRANSFER_COLUMNS`] of a row; `None` when the outer join found no transfer.
    ///
    /// # Errors
    /// Internal when the row does not parse.
    fn from_row(row: &Row<'_>) -> Result<Option<Self>, Error> {
        if col::<Option<i64>>(row, "transfer_block")?.is_none() {
            return Ok(None);
        }
        Ok(Some(Transfer {
            from: address(row, "transfer_from")?,
            to: address(row, "transfer_to")?,
            block_number: unsigned(row, "transfer_block")?,
            tx_hash: tx_hash("transfer_tx", &col::<String>(row, "transfer_tx")?)?,
            log_index: unsigned(row, "transfer_log_index")?,
        }))
    }
}

/// A chain ticket with its transfer history, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct TicketDetail {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub transfers: Vec<Transfer>,
}

impl TicketDetail {
    /// Folds the rows of one ticket outer-joined with its transfers (in history order).
    ///
    /// # Errors
    /// Internal when a row does not parse.
    pub fn from_rows(rows: &Rows) -> Result<Option<Self>, Error> {
        let Some(first) = rows.row(0) else {
            return Ok(None);
        };
        let transfers = rows
            .iter()
            .filter_map(|row| Transfer::from_row(&row).transpose())
            .collect::<Result<_, _>>()?;
        Ok(Some(TicketDetail {
            ticket: Ticket::from_row(&first)?,
            transfers,
        }))
    }
}

/// The columns [`Listing::from_row`] reads (over `market_listings l`).
pub(super) const LISTING_COLUMNS: &str = "l.id, l.token_id, l.event_id, l.seller, l.price, \
     l.currency, l.status, l.created_block, l.updated_block";

/// A secondary-market listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Listing {
    pub id: ChainUint,
    pub token_id: ChainUint,
    /// The chain event id of the listed ticket, when the indexer knew it.
    pub event_id: Option<ChainUint>,
    pub seller: WalletAddress,
    /// Wei (or token base units).
    pub price: Amount,
    pub currency: Currency,
    pub status: ListingStatus,
    pub created_block: u64,
    pub updated_block: u64,
}

impl Listing {
    /// Reads a row selected with [`LISTING_COLUMNS`].
    ///
    /// # Errors
    /// Internal when the row does not parse.
    pub fn from_row(row: &Row<'_>) -> Result<Self, Error> {
        let status: String = col(row, "status")?;
        let currency: String = col(row, "currency")?;
        Ok(Listing {
            id: uint(row, "id")?,
            token_id: uint(row, "token_id")?,
            event_id: opt_uint(row, "event_id")?,
            seller: address(row, "seller")?,
            price: amount(row, "price")?,
            currency: Currency::parse(&currency).map_err(|e| corrupt("currency", e))?,
            status: ListingStatus::parse(&status).ok_or_else(|| corrupt("status", &status))?,
            created_block: unsigned(row, "created_block")?,
            updated_block: unsigned(row, "updated_block")?,
        })
    }
}

/// The trade columns of a listing detail (over `trades r`, `NULL` when unsold).
pub(super) const TRADE_COLUMNS: &str = "r.buyer AS trade_buyer, r.price AS trade_price, \
     r.tx_hash AS trade_tx, r.block_number AS trade_block";

/// The purchase that filled a listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Trade {
    pub buyer: WalletAddress,
    pub price: Amount,
    pub tx_hash: String,
    pub block_number: u64,
}

/// A listing and its trade (`null` unless sold).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(super) struct ListingDetail {
    #[serde(flatten)]
    pub listing: Listing,
    pub trade: Option<Trade>,
}

impl ListingDetail {
    /// Reads a row selected with [`LISTING_COLUMNS`] and [`TRADE_COLUMNS`].
    ///
    /// # Errors
    /// Internal when the row does not parse.
    pub fn from_row(row: &Row<'_>) -> Result<Self, Error> {
        let trade = match col::<Option<i64>>(row, "trade_block")? {
            None => None,
            Some(_) => Some(Trade {
                buyer: address(row, "trade_buyer")?,
                price: amount(row, "trade_price")?,
                tx_hash: tx_hash("trade_tx", &col::<String>(row, "trade_tx")?)?,
                block_number: unsigned(row, "trade_block")?,
            }),
        };
        Ok(ListingDetail {
            listing: Listing::from_row(row)?,
            trade,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use shared::sql::SqlValue;

    const ALICE: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
    const BOB: &str = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";
    const ZERO: &str = "0x0000000000000000000000000000000000000000";

    fn tx(n: u8) -> String {
        format!("0x{}", hex::encode([n; 32]))
    }

    fn rows(columns: &[&str], rows: Vec<Vec<SqlValue>>) -> Rows {
        Rows {
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
            rows,
            ..Rows::default()
        }
    }

    const DETAIL_COLUMNS: [&str; 13] = [
        "token_id",
        "event_id",
        "catalog_event_id",
        "ticket_type_id",
        "owner",
        "status",
        "mint_tx",
        "mint_block",
        "transfer_from",
        "transfer_to",
        "transfer_block",
        "transfer_tx",
        "transfer_log_index",
    ];

    fn ticket_row(owner: &str, transfer: Option<(&str, &str, i64, i64)>) -> Vec<SqlValue> {
        let mut row: Vec<SqlValue> = vec![
            "18446744073709551616".into(),
            "7".into(),
            Some("evt_0123456789abcdef0123").into(),
            "2".into(),
            owner.to_lowercase().into(),
            "used".into(),
            tx(1).to_uppercase().replace("0X", "0x").into(),
            10i64.into(),
        ];
        row.extend(match transfer {
            Some((from, to, block, log)) => vec![
                from.into(),
                to.into(),
                block.into(),
                tx(block as u8).into(),
                log.into(),
            ],
            None => vec![SqlValue::Null; 5],
        });
        row
    }

    #[test]
    fn a_ticket_detail_folds_its_transfers() {
        let detail = TicketDetail::from_rows(&rows(
            &DETAIL_COLUMNS,
            vec![
                ticket_row(BOB, Some((ZERO, ALICE, 10, 0))),
                ticket_row(BOB, Some((ALICE, BOB, 12, 3))),
            ],
        ))
        .expect("parses")
        .expect("found");
        assert_eq!(
            serde_json::to_value(&detail).ok(),
            Some(json!({
                "tokenId": "18446744073709551616",
                "eventId": "7",
                "catalogEventId": "evt_0123456789abcdef0123",
                "typeId": "2",
                "owner": BOB,
                "status": "used",
                "mintTx": tx(1),
                "mintBlock": 10,
                "transfers": [
                    {"from": ZERO, "to": ALICE, "blockNumber": 10, "txHash": tx(10), "logIndex": 0},
                    {"from": ALICE, "to": BOB, "blockNumber": 12, "txHash": tx(12), "logIndex": 3},
                ]
            }))
        );
    }

    #[test]
    fn a_ticket_without_transfers_or_rows() {
        let detail = TicketDetail::from_rows(&rows(&DETAIL_COLUMNS, vec![ticket_row(BOB, None)]))
            .expect("parses")
            .expect("found");
        assert!(detail.transfers.is_empty());
        assert_eq!(
            TicketDetail::from_rows(&rows(&DETAIL_COLUMNS, vec![])).ok(),
            Some(None)
        );
    }

    #[test]
    fn corrupt_rows_are_internal_errors() {
        let mut row = ticket_row(BOB, None);
        row[0] = "007".into();
        let err = TicketDetail::from_rows(&rows(&DETAIL_COLUMNS, vec![row])).expect_err("corrupt");
        assert!(
            matches!(&err, Error::Internal(m) if m.contains("token_id")),
            "{err:?}"
        );
        let mut row = ticket_row(BOB, None);
        row[5] = "lost".into();
        assert!(TicketDetail::from_rows(&rows(&DETAIL_COLUMNS, vec![row])).is_err());
        let mut row = ticket_row(BOB, None);
        row[6] = "0x12".into();
        assert!(TicketDetail::from_rows(&rows(&DETAIL_COLUMNS, vec![row])).is_err());
        let mut row = ticket_row(BOB, None);
        row[7] = (-1i64).into();
        assert!(TicketDetail::from_rows(&rows(&DETAIL_COLUMNS, vec![row])).is_err());
    }

    #[test]
    fn a_listing_detail_with_and_without_trade() {
        let columns = [
            "id",
            "token_id",
            "event_id",
            "seller",
            "price",
            "currency",
            "status",
            "created_block",
            "updated_block",
            "trade_buyer",
            "trade_price",
            "trade_tx",
            "trade_block",
        ];
        let listing = |status: &str, trade: bool| -> Vec<SqlValue> {
            let mut row: Vec<SqlValue> = vec![
                "3".into(),
                "5".into(),
                SqlValue::Null,
                ALICE.to_lowercase().into(),
                "1000000000000000000".into(),
                "ETH".into(),
                status.into(),
                11i64.into(),
                12i64.into(),
            ];
            row.extend(if trade {
                vec![
                    BOB.into(),
                    "1000000000000000000".into(),
                    tx(12).into(),
                    12i64.into(),
                ]
            } else {
                vec![SqlValue::Null; 4]
            });
            row
        };
        let sold = rows(&columns, vec![listing("sold", true)]);
        let detail = ListingDetail::from_row(&sold.row(0).expect("row")).expect("parses");
        assert_eq!(
            serde_json::to_value(&detail).ok(),
            Some(json!({
                "id": "3", "tokenId": "5", "eventId": null, "seller": ALICE,
                "price": "1000000000000000000", "currency": "ETH", "status": "sold",
                "createdBlock": 11, "updatedBlock": 12,
                "trade": {"buyer": BOB, "price": "1000000000000000000", "txHash": tx(12), "blockNumber": 12}
            }))
        );
        let listed = rows(&columns, vec![listing("listed", false)]);
        let detail = ListingDetail::from_row(&listed.row(0).expect("row")).expect("parses");
        assert_eq!(detail.trade, None);
        assert_eq!(detail.listing.status, ListingStatus::Listed);
        let bad = rows(&columns, vec![listing("open", false)]);
        assert!(ListingDetail::from_row(&bad.row(0).expect("row")).is_err());
    }
}
