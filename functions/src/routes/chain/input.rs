//! Path and query parameters of the chain read API, parsed once into typed values, and the SQL
//! filters they turn into.
//!
//! On-chain ids stay in their canonical decimal text: that is how the indexer stores them, so
//! they bind and compare as text, and ordering them numerically is "shorter first, then
//! lexically" (exact for every uint256, unlike `CAST(… AS INTEGER)`, which saturates at
//! 2^63 - 1).

use crate::extract::{Page, Query};
use serde::Serialize;
use shared::domain::{Amount, WalletAddress};
use shared::error::Error;
use shared::sql::{SqlValue, Statement};

/// A canonical decimal uint256 as the chain emits it (token, chain event and listing ids):
/// `0` or digits without a leading zero, at most `2^256 - 1`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChainUint(String);

impl ChainUint {
    /// Parses the canonical form.
    ///
    /// # Errors
    /// A message saying what is wrong.
    pub fn parse(s: &str) -> Result<Self, String> {
        // `Amount` holds `shared`'s one canonical uint256 parser; an id follows the same rules.
        Amount::parse(s).map(|_| ChainUint(s.to_owned()))
    }

    /// Parses parameter `field`.
    ///
    /// # Errors
    /// 400 `VALIDATION_FAILED` naming `field`.
    pub fn param(field: &str, s: &str) -> Result<Self, Error> {
        Self::parse(s).map_err(|m| Error::invalid(field, m))
    }

    /// The decimal text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Serialize for ChainUint {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// `ORDER BY` terms that sort a column of canonical decimals numerically.
fn numeric(column: &str, descending: bool) -> String {
    let dir = if descending { " DESC" } else { "" };
    format!("length({column}){dir}, {column}{dir}")
}

/// Declares a closed set of lower-case status words stored in a `CHECK`ed column.
macro_rules! status_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub(super) enum $name { $($variant),+ }

        impl $name {
            const NAMES: &'static [(&'static str, $name)] = &[$(($text, $name::$variant)),+];

            /// Parses the stored / query word.
            pub fn parse(s: &str) -> Option<Self> {
                Self::NAMES.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
            }

            /// The word.
            pub fn as_str(self) -> &'static str {
                Self::NAMES
                    .iter()
                    .find(|(_, v)| *v == self)
                    .map_or("", |(n, _)| n)
            }

            /// Reads the optional query parameter `field`.
            fn from_query(query: &Query, field: &str) -> Result<Option<Self>, Error> {
                query
                    .get(field)
                    .map(|s| {
                        Self::parse(s).ok_or_else(|| {
                            let names: Vec<_> = Self::NAMES.iter().map(|(n, _)| *n).collect();
                            Error::invalid(field, format!("must be one of {}", names.join(", ")))
                        })
                    })
                    .transpose()
            }
        }
    };
}

status_enum! {
    /// Where a chain ticket stands (`tickets.status`).
    TicketStatus { Valid = "valid", Used = "used", Revoked = "revoked" }
}

status_enum! {
    /// Where a market listing stands (`market_listings.status`).
    ListingStatus { Listed = "listed", Cancelled = "cancelled", Sold = "sold" }
}

/// `WHERE` clauses joined by `AND`, with their arguments in placeholder order.
#[derive(Debug, Clone, PartialEq, Default)]
pub(super) struct Filter {
    clauses: Vec<&'static str>,
    args: Vec<SqlValue>,
}

impl Filter {
    /// A filter starting with a clause that takes no argument.
    fn new(clause: &'static str) -> Self {
        Filter {
            clauses: vec![clause],
            args: Vec::new(),
        }
    }

    /// A filter that matches every row until clauses are added.
    fn all() -> Self {
        Filter::default()
    }

    /// Adds `clause` (one `?`) bound to `arg`, when there is an `arg`.
    fn and(mut self, clause: &'static str, arg: Option<impl Into<SqlValue>>) -> Self {
        if let Some(arg) = arg {
            self.clauses.push(clause);
            self.args.push(arg.into());
        }
        self
    }

    /// `WHERE …`, or nothing when there is no clause.
    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// A statement of `sql` bound to this filter's arguments (more can be bound after).
    pub fn statement(&self, sql: String) -> Statement {
        self.args
            .iter()
            .cloned()
            .fold(Statement::new(sql), Statement::bind)
    }
}

/// `GET /v1/wallets/{address}/tickets`: chain tickets a wallet holds now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct WalletTicketsQuery {
    pub owner: WalletAddress,
    pub status: Option<TicketStatus>,
    /// Chain event id.
    pub event_id: Option<ChainUint>,
    pub page: Page,
}

impl WalletTicketsQuery {
    /// Reads the `{address}` path parameter and the query.
    ///
    /// # Errors
    /// 400 naming `address`, `status`, `eventId`, `page` or `pageSize`.
    pub fn parse(address: &str, query: &Query) -> Result<Self, Error> {
        Ok(WalletTicketsQuery {
            owner: WalletAddress::parse(address).map_err(|m| Error::invalid("address", m))?,
            status: TicketStatus::from_query(query, "status")?,
            event_id: query
                .get("eventId")
                .map(|s| ChainUint::param("eventId", s))
                .transpose()?,
            page: Page::from_query(query)?,
        })
    }

    /// Over `tickets t`. Owners are stored EIP-55, so the checksummed form matches exactly and
    /// the `tickets_owner` index serves the lookup.
    pub fn filter(&self) -> Filter {
        Filter::new("t.token_id IS NOT NULL")
            .and("t.owner = ?", Some(self.owner.checksummed()))
            .and("t.status = ?", self.status.map(TicketStatus::as_str))
            .and(
                "t.event_id = ?",
                self.event_id.as_ref().map(ChainUint::as_str),
            )
    }

    /// Token id, numerically.
    pub fn order_by(&self) -> String {
        numeric("t.token_id", false)
    }
}

/// The order of a listing page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ListingSort {
    /// Newest first (the default).
    NewestFirst,
    OldestFirst,
    PriceAscending,
    PriceDescending,
}

impl ListingSort {
    const NAMES: [(&'static str, ListingSort); 4] = [
        ("-createdBlock", ListingSort::NewestFirst),
        ("createdBlock", ListingSort::OldestFirst),
        ("price", ListingSort::PriceAscending),
        ("-price", ListingSort::PriceDescending),
    ];

    fn parse(s: &str) -> Option<Self> {
        Self::NAMES.iter().find(|(n, _)| *n == s).map(|(_, v)| *v)
    }

    /// `ORDER BY` over `market_listings l`; the listing id (numerically) breaks ties, so pages
    /// never overlap or skip. Prices are canonical decimals, so they sort numerically too.
    pub fn order_by(self) -> String {
        let first = match self {
            ListingSort::NewestFirst => "l.created_block DESC".to_owned(),
            ListingSort::OldestFirst => "l.created_block ASC".to_owned(),
            ListingSort::PriceAscending => numeric("l.price", false),
            ListingSort::PriceDescending => numeric("l.price", true),
        };
        format!("{first}, {}", numeric("l.id", false))
    }
}

/// `GET /v1/market/listings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ListingsQuery {
    /// Chain event id.
    pub event_id: Option<ChainUint>,
    pub status: Option<ListingStatus>,
    pub seller: Option<WalletAddress>,
    pub sort: ListingSort,
    pub page: Page,
}

impl ListingsQuery {
    /// Reads the query.
    ///
    /// # Errors
    /// 400 naming `eventId`, `status`, `seller`, `sort`, `page` or `pageSize`.
    pub fn parse(query: &Query) -> Result<Self, Error> {
        Ok(ListingsQuery {
            event_id: query
                .get("eventId")
                .map(|s| ChainUint::param("eventId", s))
                .transpose()?,
            status: ListingStatus::from_query(query, "status")?,
            seller: query
                .get("seller")
                .map(|s| WalletAddress::parse(s).map_err(|m| Error::invalid("seller", m)))
                .transpose()?,
            sort: match query.get("sort") {
                None => ListingSort::NewestFirst,
                Some(s) => ListingSort::parse(s).ok_or_else(|| {
                    Error::invalid(
                        "sort",
                        "must be one of -createdBlock, createdBlock, price, -price",
                    )
                })?,
            },
            page: Page::from_query(query)?,
        })
    }

    /// Over `market_listings l`.
    pub fn filter(&self) -> Filter {
        Filter::all()
            .and(
                "l.event_id = ?",
                self.event_id.as_ref().map(ChainUint::as_str),
            )
            .and("l.status = ?", self.status.map(ListingStatus::as_str))
            .and("l.seller = ?", self.seller.map(|s| s.checksummed()))
    }
}

#[cfg(test)]
mod tests;
