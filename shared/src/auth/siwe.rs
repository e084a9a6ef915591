//! Sign-In with Ethereum (EIP-4361) messages: rendering the text a wallet signs, and parsing
//! it back strictly (line by line, in the ABNF's order, nothing extra), so the fields we check
//! are exactly the ones the user saw and signed.

use crate::domain::WalletAddress;
use chrono::{DateTime, SecondsFormat, Utc};

const PREAMBLE: &str = " wants you to sign in with your Ethereum account:";

/// A parsed EIP-4361 message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiweMessage {
    pub scheme: Option<String>,
    pub domain: String,
    pub address: WalletAddress,
    pub statement: Option<String>,
    pub uri: String,
    pub version: String,
    pub chain_id: u64,
    pub nonce: String,
    pub issued_at: DateTime<Utc>,
    pub expiration_time: Option<DateTime<Utc>>,
    pub not_before: Option<DateTime<Utc>>,
    pub request_id: Option<String>,
    pub resources: Vec<String>,
}

/// Why a message is not a well-formed EIP-4361 message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid sign-in message: {0}")]
pub struct SiweParseError(pub String);

fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(field: &str, value: &str) -> Result<DateTime<Utc>, SiweParseError> {
    DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| SiweParseError(format!("{field} is not an RFC 3339 timestamp")))
}

impl SiweMessage {
    /// The exact text to sign.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Some(scheme) = &self.scheme {
            out.push_str(scheme);
            out.push_str("://");
        }
        out.push_str(&self.domain);
        out.push_str(PREAMBLE);
        out.push('\n');
        out.push_str(&self.address.checksummed());
        out.push_str("\n\n");
        if let Some(statement) = &self.statement {
            out.push_str(statement);
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&format!(
            "URI: {}\nVersion: {}\nChain ID: {}\nNonce: {}\nIssued At: {}",
            self.uri,
            self.version,
            self.chain_id,
            self.nonce,
            rfc3339(&self.issued_at)
        ));
        if let Some(t) = &self.expiration_time {
            out.push_str(&format!("\nExpiration Time: {}", rfc3339(t)));
        }
        if let Some(t) = &self.not_before {
            out.push_str(&format!("\nNot Before: {}", rfc3339(t)));
        }
        if let Some(id) = &self.request_id {
            out.push_str(&format!("\nRequest ID: {id}"));
        }
        if !self.resources.is_empty() {
            out.push_str("\nResources:");
            for resource in &self.resources {
                out.push_str(&format!("\n- {resource}"));
            }
        }
        out
    }

    /// Parses a message strictly.
    ///
    /// # Errors
    /// [`SiweParseError`] naming the first line that does not fit.
    pub fn parse(text: &str) -> Result<SiweMessage, SiweParseError> {
        let err = |m: &str| SiweParseError(m.to_owned());
        let mut lines = text.split('\n').peekable();
        let header = lines.next().ok_or_else(|| err("empty message"))?;
        let origin = header
            .strip_suffix(PREAMBLE)
            .ok_or_else(|| err("first line must end with the EIP-4361 preamble"))?;
        let (scheme, domain) = match origin.split_once("://") {
            Some((scheme, domain)) => (Some(scheme.to_owned()), domain.to_owned()),
            None => (None, origin.to_owned()),
        };
        if domain.is_empty() || domain.contains(char::is_whitespace) {
            return Err(err("domain is missing or has whitespace"));
        }
        let address = lines.next().ok_or_else(|| err("address line missing"))?;
        let address = WalletAddress::parse_checksummed(address)
            .map_err(|e| SiweParseError(format!("address {e}")))?;
        if lines.next() != Some("") {
            return Err(err("a blank line must follow the address"));
        }
        let statement = match lines.next() {
            Some("") => None,
            Some(statement) if !statement.starts_with("URI: ") => {
                if lines.next() != Some("") {
                    return Err(err("a blank line must follow the statement"));
                }
                Some(statement.to_owned())
            }
            _ => return Err(err("expected a statement or a blank line")),
        };
        let mut field = |name: &str| -> Result<String, SiweParseError> {
            let line = lines
                .next()
                .ok_or_else(|| SiweParseError(format!("{name} line missing")))?;
            line.strip_prefix(&format!("{name}: "))
                .map(str::to_owned)
                .ok_or_else(|| SiweParseError(format!("expected `{name}: …`, found {line:?}")))
        };
        let uri = field("URI")?;
        let version = field("Version")?;
        if version != "1" {
            return Err(err("Version must be 1"));
        }
        let chain_id = field("Chain ID")?
            .parse::<u64>()
            .map_err(|_| err("Chain ID must be a decimal integer"))?;
        let nonce = field("Nonce")?;
        if nonce.len() < 8 || !nonce.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(err("Nonce must be at least 8 alphanumerics"));
        }
        let issued_at = parse_time("Issued At", &field("Issued At")?)?;
        let mut message = SiweMessage {
            scheme,
            domain,
            address,
            statement,
            uri,
            version,
            chain_id,
            nonce,
            issued_at,
            expiration_time: None,
            not_before: None,
            request_id: None,
            resources: Vec::new(),
        };
        // Optional fields, each at most once and in the ABNF's order.
        let mut order = 0;
        while let Some(line) = lines.next() {
            let (rank, name, value) = if let Some(v) = line.strip_prefix("Expiration Time: ") {
                (1, "Expiration Time", v)
            } else if let Some(v) = line.strip_prefix("Not Before: ") {
                (2, "Not Before", v)
            } else if let Some(v) = line.strip_prefix("Request ID: ") {
                (3, "Request ID", v)
            } else if line == "Resources:" {
                (4, "Resources", "")
            } else {
                return Err(SiweParseError(format!("unexpected line {line:?}")));
            };
            if rank <= order {
                return Err(SiweParseError(format!(
                    "{name} is repeated or out of order"
                )));
            }
            order = rank;
            match rank {
                1 => message.expiration_time = Some(parse_time(name, value)?),
                2 => message.not_before = Some(parse_time(name, value)?),
                3 => message.request_id = Some(value.to_owned()),
                _ => {
                    for resource in lines.by_ref() {
                        let uri = resource
                            .strip_prefix("- ")
                            .ok_or_else(|| err("resources must be `- <uri>` lines"))?;
                        message.resources.push(uri.to_owned());
                    }
                }
            }
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> SiweMessage {
        SiweMessage {
            scheme: None,
            domain: "tickets.example.com".into(),
            address: WalletAddress::parse("0x70997970C51812dc3A010C7d01b50e0d17dc79C8")
                .expect("address"),
            statement: Some("Sign in to OnlineTicket.".into()),
            uri: "https://tickets.example.com".into(),
            version: "1".into(),
            chain_id: 1,
            nonce: "abcDEF123456ghij".into(),
            issued_at: parse_time("t", "2026-11-21T10:00:00.000Z").expect("time"),
            expiration_time: Some(parse_time("t", "2026-11-21T10:05:00.000Z").expect("time")),
            not_before: None,
            request_id: None,
            resources: vec![],
        }
    }

    #[test]
    fn renders_the_eip_4361_layout() {
        assert_eq!(
            sample().render(),
            "tickets.example.com wants you to sign in with your Ethereum account:\n\
             0x70997970C51812dc3A010C7d01b50e0d17dc79C8\n\nSign in to OnlineTicket.\n\n\
             URI: https://tickets.example.com\nVersion: 1\nChain ID: 1\nNonce: abcDEF123456ghij\n\
             Issued At: 2026-11-21T10:00:00.000Z\nExpiration Time: 2026-11-21T10:05:00.000Z"
        );
    }

    #[test]
    fn round_trips_with_and_without_optional_parts() {
        let mut full = sample();
        full.scheme = Some("https".into());
        full.not_before = Some(full.issued_at);
        full.request_id = Some("req-1".into());
        full.resources = vec!["ipfs://x".into(), "https://y".into()];
        for message in [
            sample(),
            full,
            SiweMessage {
                statement: None,
                expiration_time: None,
                ..sample()
            },
        ] {
            assert_eq!(SiweMessage::parse(&message.render()), Ok(message));
        }
    }

    #[test]
    fn rejects_deviations() {
        let text = sample().render();
        let cases = [
            text.replace(
                "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                "0x70997970c51812dc3a010c7d01b50e0d17dc79c8",
            ),
            text.replace("Version: 1", "Version: 2"),
            text.replace("Chain ID: 1", "Chain ID: one"),
            text.replace("Nonce: abcDEF123456ghij", "Nonce: short"),
            text.replace(
                "Issued At: 2026-11-21T10:00:00.000Z",
                "Issued At: yesterday",
            ),
            format!("{text}\nExpiration Time: 2026-11-21T10:06:00.000Z"),
            format!("{text}\nExtra: 1"),
            text.replace("\n\nURI", "\nURI"),
            text.replace(" wants you", " wants u"),
        ];
        for case in cases {
            assert!(SiweMessage::parse(&case).is_err(), "accepted:\n{case}");
        }
    }

    proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC*(\n\\PC*){0,12}") {
            let _ = SiweMessage::parse(&s);
        }
    }
}
