//! Decoding against logs the real contracts emitted on anvil: `fixtures/logs.json`, written
//! by `tests/js/chain/fixtures.mjs`, holds each log as `eth_getLogs` returned it and the
//! values ethers decoded from solc's ABI (a decoder independent of `sol!`), so a declaration
//! in `mod.rs` that drifts from `tests/contracts/*.sol` fails here. Then the error paths.

use super::*;
use alloy_primitives::{hex, keccak256};
use proptest::prelude::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::str::FromStr;

const FIXTURE: &str = include_str!("../fixtures/logs.json");

/// One fixture entry: the raw log and what it must decode to.
struct Case {
    log: RawLog,
    event: String,
    signature: String,
    args: Value,
}

impl Case {
    fn what(&self) -> String {
        format!(
            "{} in block {} log {}",
            self.signature, self.log.block_number, self.log.log_index
        )
    }

    fn arg(&self, name: &str) -> &str {
        self.args[name]
            .as_str()
            .unwrap_or_else(|| panic!("{}: expected.args.{name} is not a string", self.what()))
    }

    fn uint(&self, name: &str) -> U256 {
        U256::from_str_radix(self.arg(name), 10).expect("uint256 args are decimal strings")
    }

    fn address(&self, name: &str) -> Address {
        // Strict: the fixture promises EIP-55 checksummed addresses.
        Address::parse_checksummed(self.arg(name), None).expect("address args are EIP-55")
    }

    fn word(&self, name: &str) -> B256 {
        B256::from_str(self.arg(name)).expect("bytes32 args are 0x-hex")
    }

    /// The [`ChainEvent`] the fixture says this log is.
    fn expected(&self) -> ChainEvent {
        match self.event.as_str() {
            "EventCreated" => ChainEvent::EventCreated {
                event_id: self.uint("eventId"),
                organizer: self.address("organizer"),
                name: self.arg("name").to_owned(),
            },
            "TicketTypeCreated" => ChainEvent::TicketTypeCreated {
                event_id: self.uint("eventId"),
                type_id: self.uint("typeId"),
                price: self.uint("price"),
                supply: self.uint("supply"),
            },
            "TicketMinted" => ChainEvent::TicketMinted {
                token_id: self.uint("tokenId"),
                event_id: self.uint("eventId"),
                type_id: self.uint("typeId"),
                to: self.address("to"),
            },
            "Transfer" => ChainEvent::Transfer {
                from: self.address("from"),
                to: self.address("to"),
                token_id: self.uint("tokenId"),
            },
            "Approval" => ChainEvent::Approval,
            "ApprovalForAll" => ChainEvent::ApprovalForAll,
            "TicketUsed" => ChainEvent::TicketUsed {
                token_id: self.uint("tokenId"),
            },
            "TicketRevoked" => ChainEvent::TicketRevoked {
                token_id: self.uint("tokenId"),
            },
            "Listed" => ChainEvent::Listed {
                listing_id: self.uint("listingId"),
                token_id: self.uint("tokenId"),
                seller: self.address("seller"),
                price: self.uint("price"),
            },
            "ListingCancelled" => ChainEvent::ListingCancelled {
                listing_id: self.uint("listingId"),
            },
            "Sold" => ChainEvent::Sold {
                listing_id: self.uint("listingId"),
                buyer: self.address("buyer"),
                price: self.uint("price"),
            },
            "Deposit" => ChainEvent::Deposit {
                order_ref: self.word("orderRef"),
                payer: self.address("payer"),
                token: self.address("token"),
                amount: self.uint("amount"),
            },
            "Refunded" => ChainEvent::Refunded {
                order_ref: self.word("orderRef"),
                payer: self.address("payer"),
                amount: self.uint("amount"),
            },
            other => panic!("fixture has an event this test does not know: {other}"),
        }
    }
}

/// The `sol!` signature of each event kind, by name.
fn declared_signature(event: &str) -> &'static str {
    match event {
        "EventCreated" => EventCreated::SIGNATURE,
        "TicketTypeCreated" => TicketTypeCreated::SIGNATURE,
        "TicketMinted" => TicketMinted::SIGNATURE,
        "Transfer" => Transfer::SIGNATURE,
        "Approval" => Approval::SIGNATURE,
        "ApprovalForAll" => ApprovalForAll::SIGNATURE,
        "TicketUsed" => TicketUsed::SIGNATURE,
        "TicketRevoked" => TicketRevoked::SIGNATURE,
        "Listed" => Listed::SIGNATURE,
        "ListingCancelled" => ListingCancelled::SIGNATURE,
        "Sold" => Sold::SIGNATURE,
        "Deposit" => Deposit::SIGNATURE,
        "Refunded" => Refunded::SIGNATURE,
        other => panic!("no declaration for {other}"),
    }
}

fn quantity(value: &Value) -> u64 {
    let text = value.as_str().expect("quantities are strings");
    let digits = text.strip_prefix("0x").expect("quantities are 0x-hex");
    u64::from_str_radix(digits, 16).expect("quantity fits u64")
}

fn word(value: &Value) -> B256 {
    B256::from_str(value.as_str().expect("hashes are strings")).expect("hashes are 32 bytes")
}

fn cases() -> Vec<Case> {
    let fixture: Value = serde_json::from_str(FIXTURE).expect("fixtures/logs.json is JSON");
    let entries = fixture["logs"].as_array().expect("fixture has logs");
    entries
        .iter()
        .map(|entry| {
            let log = &entry["log"];
            let expected = &entry["expected"];
            let text = |v: &Value| v.as_str().expect("a string").to_owned();
            Case {
                log: RawLog {
                    address: Address::from_str(log["address"].as_str().expect("address"))
                        .expect("log address"),
                    topics: log["topics"]
                        .as_array()
                        .expect("topics")
                        .iter()
                        .map(word)
                        .collect(),
                    data: hex::decode(log["data"].as_str().expect("data")).expect("data is hex"),
                    block_number: quantity(&log["blockNumber"]),
                    block_hash: word(&log["blockHash"]),
                    tx_hash: word(&log["transactionHash"]),
                    log_index: quantity(&log["logIndex"]),
                },
                event: text(&expected["event"]),
                signature: text(&expected["signature"]),
                args: expected["args"].clone(),
            }
        })
        .collect()
}

fn malformed_as(result: Result<ChainEvent, DecodeError>) -> &'static str {
    match result {
        Err(DecodeError::Malformed { event, .. }) => event,
        other => panic!("expected Malformed, got {other:?}"),
    }
}

#[test]
fn every_fixture_log_decodes_to_the_values_the_contracts_emitted() {
    let cases = cases();
    assert!(cases.len() >= 13, "fixture too small: {}", cases.len());
    for case in &cases {
        // Same name and argument types as solc's ABI (the `indexed` flags are checked by
        // the decode itself: a wrong flag moves a value between topics and data).
        assert_eq!(
            declared_signature(&case.event),
            case.signature,
            "{}",
            case.what()
        );
        assert_eq!(decode(&case.log), Ok(case.expected()), "{}", case.what());
    }
}

#[test]
fn approvals_decode_with_every_field_although_chain_event_drops_them() {
    let cases = cases();
    let mut seen = 0;
    for case in &cases {
        let (topics, data) = (case.log.topics.iter().copied(), &case.log.data);
        match case.event.as_str() {
            "Approval" => {
                let e = Approval::decode_raw_log(topics, data).expect("Approval decodes");
                assert_eq!(e.owner, case.address("owner"), "{}", case.what());
                assert_eq!(e.approved, case.address("approved"), "{}", case.what());
                assert_eq!(e.tokenId, case.uint("tokenId"), "{}", case.what());
            }
            "ApprovalForAll" => {
                let e = ApprovalForAll::decode_raw_log(topics, data).expect("decodes");
                assert_eq!(e.owner, case.address("owner"), "{}", case.what());
                assert_eq!(e.operator, case.address("operator"), "{}", case.what());
                assert_eq!(
                    Value::Bool(e.approved),
                    case.args["approved"],
                    "{}",
                    case.what()
                );
            }
            _ => continue,
        }
        seen += 1;
    }
    assert!(seen >= 2, "fixture lacks approvals");
}

#[test]
fn topic0s_is_exactly_the_event_kinds_of_the_fixture() {
    let declared: BTreeSet<B256> = topic0s().into_iter().collect();
    assert_eq!(declared.len(), topic0s().len(), "topic0s() has duplicates");
    let emitted: BTreeSet<B256> = cases().iter().map(|c| c.log.topics[0]).collect();
    // Every kind the contracts emit is filtered for, and the fixture has every kind.
    assert_eq!(emitted, declared);
    for case in cases() {
        assert_eq!(
            case.log.topics[0],
            keccak256(case.signature.as_bytes()),
            "{}",
            case.what()
        );
    }
}

#[test]
fn an_unknown_signature_is_unknown_event() {
    let mut log = cases().swap_remove(0).log;
    let paid = keccak256("Paid(uint256)");
    log.topics[0] = paid;
    assert_eq!(decode(&log), Err(DecodeError::UnknownEvent(paid)));
}

#[test]
fn a_log_without_topics_is_no_topic() {
    for case in cases() {
        let log = RawLog {
            topics: Vec::new(),
            ..case.log
        };
        assert_eq!(decode(&log), Err(DecodeError::NoTopic));
    }
}

#[test]
fn a_missing_or_extra_topic_is_malformed() {
    for case in cases() {
        let signature = declared_signature(&case.event);
        let mut short = case.log.clone();
        if short.topics.len() > 1 {
            short.topics.pop();
            assert_eq!(malformed_as(decode(&short)), signature, "{}", case.what());
        }
        let mut long = case.log.clone();
        long.topics.push(B256::repeat_byte(0x11));
        assert_eq!(malformed_as(decode(&long)), signature, "{}", case.what());
    }
}

#[test]
fn short_or_missing_data_is_malformed() {
    let mut checked = 0;
    for case in cases().into_iter().filter(|c| !c.log.data.is_empty()) {
        let signature = declared_signature(&case.event);
        let len = case.log.data.len();
        // Cutting only into a string's zero padding goes unnoticed (alloy's non-validating
        // decoder reads just `length` bytes), so `EventCreated` loses whole words only.
        let cuts: &[usize] = if case.event == "EventCreated" {
            &[0, len - 32]
        } else {
            &[0, len - 32, len - 1]
        };
        for &keep in cuts {
            let mut log = case.log.clone();
            log.data.truncate(keep);
            assert_eq!(
                malformed_as(decode(&log)),
                signature,
                "{} keeping {keep} bytes",
                case.what()
            );
        }
        checked += 1;
    }
    assert!(checked >= 8, "fixture lacks logs with data");
}

/// ERC-20's `Transfer(address,address,uint256)` has the same topic0 as ERC-721's, with the
/// amount in data instead of a third indexed topic: it must not pass for a ticket transfer.
/// (Only an address filter keeps other contracts' logs out; `decode` does not look at it.)
#[test]
fn an_erc20_transfer_is_malformed_not_a_ticket_transfer() {
    let ticket_transfer = cases()
        .into_iter()
        .find(|c| c.event == "Transfer")
        .expect("fixture has a Transfer")
        .log;
    let mut erc20 = ticket_transfer.clone();
    let amount = erc20.topics.pop().expect("ERC-721 Transfer has 4 topics");
    erc20.data = amount.to_vec();
    assert_eq!(malformed_as(decode(&erc20)), Transfer::SIGNATURE);
}

/// Event names are organizer input and Solidity does not check `string` is UTF-8: invalid
/// bytes decode lossily (U+FFFD) rather than failing the log.
#[test]
fn an_event_name_that_is_not_utf8_decodes_lossily() {
    let mut log = cases()
        .into_iter()
        .find(|c| c.event == "EventCreated")
        .expect("fixture has an EventCreated")
        .log;
    let mut data = vec![0u8; 96];
    data[31] = 0x20; // offset of the string
    data[63] = 3; // its length
    data[64..67].copy_from_slice(&[0xff, 0xfe, b'A']);
    log.data = data;
    match decode(&log) {
        Ok(ChainEvent::EventCreated { name, .. }) => assert_eq!(name, "\u{fffd}\u{fffd}A"),
        other => panic!("expected EventCreated, got {other:?}"),
    }
}

proptest! {
    /// Whatever the node returns, `decode` answers with a value or an error, never a panic,
    /// and the error kind follows from topic0 alone.
    #[test]
    fn decode_never_panics(
        kind in 0usize..14,
        extra in proptest::collection::vec(any::<[u8; 32]>(), 0..5),
        data in proptest::collection::vec(any::<u8>(), 0..200),
    ) {
        let known = topic0s();
        let mut topics: Vec<B256> = Vec::new();
        if kind < known.len() {
            topics.push(known[kind]);
        }
        topics.extend(extra.into_iter().map(B256::from));
        let log = RawLog {
            address: Address::ZERO,
            topics: topics.clone(),
            data,
            block_number: 1,
            block_hash: B256::ZERO,
            tx_hash: B256::ZERO,
            log_index: 0,
        };
        match (topics.first(), decode(&log)) {
            (None, result) => prop_assert_eq!(result, Err(DecodeError::NoTopic)),
            (Some(t0), Err(DecodeError::UnknownEvent(t))) => {
                prop_assert_eq!(t, *t0);
                prop_assert!(!known.contains(t0));
            }
            (Some(t0), _) => prop_assert!(known.contains(t0)),
        }
    }
}
