//! Event declarations and log decoding.
//!
//! The `sol!` declarations below must match `tests/contracts/*.sol` exactly (names, argument
//! types, which arguments are `indexed`); the decoding tests run against logs the real
//! contracts emitted on anvil (`fixtures/logs.json`).

use alloy_primitives::{Address, B256, U256};
use alloy_sol_types::{SolEvent, sol};

sol! {
    /// TicketNFT (ERC-721): an organizer registers an event.
    event EventCreated(uint256 indexed eventId, address indexed organizer, string name);
    /// TicketNFT: a ticket type with price (wei) and supply.
    event TicketTypeCreated(uint256 indexed eventId, uint256 indexed typeId, uint256 price, uint256 supply);
    /// TicketNFT: a ticket was minted (also emits `Transfer` from the zero address).
    event TicketMinted(uint256 indexed tokenId, uint256 indexed eventId, uint256 indexed typeId, address to);
    /// ERC-721 `Transfer` (mints come from, burns go to, the zero address).
    event Transfer(address indexed from, address indexed to, uint256 indexed tokenId);
    /// ERC-721 `Approval` (decoded, not projected).
    event Approval(address indexed owner, address indexed approved, uint256 indexed tokenId);
    /// ERC-721 `ApprovalForAll` (decoded, not projected).
    event ApprovalForAll(address indexed owner, address indexed operator, bool approved);
    /// TicketNFT: checked in at the door.
    event TicketUsed(uint256 indexed tokenId);
    /// TicketNFT: invalidated by the organizer.
    event TicketRevoked(uint256 indexed tokenId);
    /// Marketplace: a ticket listed for resale.
    event Listed(uint256 indexed listingId, uint256 indexed tokenId, address indexed seller, uint256 price);
    /// Marketplace: a listing withdrawn.
    event ListingCancelled(uint256 indexed listingId);
    /// Marketplace: a listing bought.
    event Sold(uint256 indexed listingId, address indexed buyer, uint256 price);
    /// PaymentVault: a fan paid for an order (`token` is the zero address for ETH).
    event Deposit(bytes32 indexed orderRef, address indexed payer, address token, uint256 amount);
    /// PaymentVault: an order was refunded.
    event Refunded(bytes32 indexed orderRef, address indexed payer, uint256 amount);
}

/// A log as the RPC returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawLog {
    pub address: Address,
    pub topics: Vec<B256>,
    pub data: Vec<u8>,
    pub block_number: u64,
    pub block_hash: B256,
    pub tx_hash: B256,
    pub log_index: u64,
}

/// A decoded event of our contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainEvent {
    EventCreated {
        event_id: U256,
        organizer: Address,
        name: String,
    },
    TicketTypeCreated {
        event_id: U256,
        type_id: U256,
        price: U256,
        supply: U256,
    },
    TicketMinted {
        token_id: U256,
        event_id: U256,
        type_id: U256,
        to: Address,
    },
    Transfer {
        from: Address,
        to: Address,
        token_id: U256,
    },
    Approval,
    ApprovalForAll,
    TicketUsed {
        token_id: U256,
    },
    TicketRevoked {
        token_id: U256,
    },
    Listed {
        listing_id: U256,
        token_id: U256,
        seller: Address,
        price: U256,
    },
    ListingCancelled {
        listing_id: U256,
    },
    Sold {
        listing_id: U256,
        buyer: Address,
        price: U256,
    },
    Deposit {
        order_ref: B256,
        payer: Address,
        token: Address,
        amount: U256,
    },
    Refunded {
        order_ref: B256,
        payer: Address,
        amount: U256,
    },
}

/// Why a log did not decode (it is kept raw and counted, never fatal).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("log has no topics")]
    NoTopic,
    #[error("unknown event signature {0}")]
    UnknownEvent(B256),
    #[error("malformed {event} log: {reason}")]
    Malformed { event: &'static str, reason: String },
}

/// `topic0` of every event we decode (the `eth_getLogs` topic filter).
pub fn topic0s() -> Vec<B256> {
    vec![
        EventCreated::SIGNATURE_HASH,
        TicketTypeCreated::SIGNATURE_HASH,
        TicketMinted::SIGNATURE_HASH,
        Transfer::SIGNATURE_HASH,
        Approval::SIGNATURE_HASH,
        ApprovalForAll::SIGNATURE_HASH,
        TicketUsed::SIGNATURE_HASH,
        TicketRevoked::SIGNATURE_HASH,
        Listed::SIGNATURE_HASH,
        ListingCancelled::SIGNATURE_HASH,
        Sold::SIGNATURE_HASH,
        Deposit::SIGNATURE_HASH,
        Refunded::SIGNATURE_HASH,
    ]
}

fn decode_as<E: SolEvent>(log: &RawLog) -> Result<E, DecodeError> {
    E::decode_raw_log(log.topics.iter().copied(), &log.data).map_err(|e| DecodeError::Malformed {
        event: E::SIGNATURE,
        reason: e.to_string(),
    })
}

/// Decodes a log of our contracts.
///
/// # Errors
/// [`DecodeError`] for unknown signatures and malformed logs.
pub fn decode(log: &RawLog) -> Result<ChainEvent, DecodeError> {
    let topic0 = *log.topics.first().ok_or(DecodeError::NoTopic)?;
    Ok(match topic0 {
        t if t == EventCreated::SIGNATURE_HASH => {
            let e: EventCreated = decode_as(log)?;
            ChainEvent::EventCreated {
                event_id: e.eventId,
                organizer: e.organizer,
                name: e.name,
            }
        }
        t if t == TicketTypeCreated::SIGNATURE_HASH => {
            let e: TicketTypeCreated = decode_as(log)?;
            ChainEvent::TicketTypeCreated {
                event_id: e.eventId,
                type_id: e.typeId,
                price: e.price,
                supply: e.supply,
            }
        }
        t if t == TicketMinted::SIGNATURE_HASH => {
            let e: TicketMinted = decode_as(log)?;
            ChainEvent::TicketMinted {
                token_id: e.tokenId,
                event_id: e.eventId,
                type_id: e.typeId,
                to: e.to,
            }
        }
        t if t == Transfer::SIGNATURE_HASH => {
            let e: Transfer = decode_as(log)?;
            ChainEvent::Transfer {
                from: e.from,
                to: e.to,
                token_id: e.tokenId,
            }
        }
        t if t == Approval::SIGNATURE_HASH => {
            decode_as::<Approval>(log)?;
            ChainEvent::Approval
        }
        t if t == ApprovalForAll::SIGNATURE_HASH => {
            decode_as::<ApprovalForAll>(log)?;
            ChainEvent::ApprovalForAll
        }
        t if t == TicketUsed::SIGNATURE_HASH => ChainEvent::TicketUsed {
            token_id: decode_as::<TicketUsed>(log)?.tokenId,
        },
        t if t == TicketRevoked::SIGNATURE_HASH => ChainEvent::TicketRevoked {
            token_id: decode_as::<TicketRevoked>(log)?.tokenId,
        },
        t if t == Listed::SIGNATURE_HASH => {
            let e: Listed = decode_as(log)?;
            ChainEvent::Listed {
                listing_id: e.listingId,
                token_id: e.tokenId,
                seller: e.seller,
                price: e.price,
            }
        }
        t if t == ListingCancelled::SIGNATURE_HASH => ChainEvent::ListingCancelled {
            listing_id: decode_as::<ListingCancelled>(log)?.listingId,
        },
        t if t == Sold::SIGNATURE_HASH => {
            let e: Sold = decode_as(log)?;
            ChainEvent::Sold {
                listing_id: e.listingId,
                buyer: e.buyer,
                price: e.price,
            }
        }
        t if t == Deposit::SIGNATURE_HASH => {
            let e: Deposit = decode_as(log)?;
            ChainEvent::Deposit {
                order_ref: e.orderRef,
                payer: e.payer,
                token: e.token,
                amount: e.amount,
            }
        }
        t if t == Refunded::SIGNATURE_HASH => {
            let e: Refunded = decode_as(log)?;
            ChainEvent::Refunded {
                order_ref: e.orderRef,
                payer: e.payer,
                amount: e.amount,
            }
        }
        other => return Err(DecodeError::UnknownEvent(other)),
    })
}

#[cfg(test)]
mod tests;
