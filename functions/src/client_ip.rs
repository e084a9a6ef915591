//! Which address a request's IP rate-limit bucket is keyed on.
//!
//! On Spin the client address comes from `X-Forwarded-For`. Every proxy *appends* the address
//! it received the request from, so only the right-most entries were written by proxies we
//! run; anything to their left came from the client and is free text. With
//! `TRUSTED_PROXY_HOPS = n` the client is the n-th entry from the right (1: the one our
//! ingress appended). Taking the left-most entry, as this code once did, let a client pick
//! its own bucket.
//!
//! With no usable address (fewer entries than trusted hops, or the entry is not an IP) the
//! request gets no IP bucket at all rather than a shared `unknown` one: a shared bucket is
//! one that any client could drain to lock every other such client out. Authenticated routes
//! still charge the wallet bucket. Behind a correctly configured ingress the case does not
//! occur, since the ingress always appends.

use shared::http::Headers;
use std::net::{IpAddr, SocketAddr};

/// The client address `hops` entries from the right of every `X-Forwarded-For` line (joined
/// in order, as HTTP joins repeated header lines), in canonical form; `None` when there is
/// no such entry or it is not an IP address (an optional port is dropped).
pub fn from_forwarded_for(headers: &Headers, hops: u32) -> Option<String> {
    let joined: Vec<&str> = headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("x-forwarded-for"))
        .flat_map(|(_, value)| value.split(','))
        .map(str::trim)
        .collect();
    let hops = usize::try_from(hops).ok().filter(|h| *h >= 1)?;
    let index = joined.len().checked_sub(hops)?;
    let entry = joined.get(index)?;
    // Canonical text, so `2001:DB8::1` and `2001:db8:0::1` share one bucket.
    let ip = entry
        .parse::<IpAddr>()
        .or_else(|_| entry.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()?;
    Some(ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn xff(lines: &[&str]) -> Headers {
        lines.iter().map(|v| ("X-Forwarded-For", *v)).collect()
    }

    #[test]
    fn one_trusted_hop_takes_the_right_most_entry() {
        let headers = xff(&["198.51.100.1, 203.0.113.7"]);
        assert_eq!(
            from_forwarded_for(&headers, 1).as_deref(),
            Some("203.0.113.7")
        );
    }

    #[test]
    fn a_left_most_value_the_client_wrote_changes_nothing() {
        let first = xff(&["1.1.1.1, 203.0.113.7"]);
        let second = xff(&["2.2.2.2, 203.0.113.7"]);
        assert_eq!(
            from_forwarded_for(&first, 1),
            from_forwarded_for(&second, 1)
        );
    }

    #[test]
    fn two_hops_take_the_second_from_the_right() {
        let headers = xff(&["6.6.6.6, 203.0.113.7, 10.0.0.2"]);
        assert_eq!(
            from_forwarded_for(&headers, 2).as_deref(),
            Some("203.0.113.7")
        );
    }

    #[test]
    fn repeated_header_lines_count_as_one_list() {
        let headers = xff(&["6.6.6.6", "203.0.113.7"]);
        assert_eq!(
            from_forwarded_for(&headers, 1).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(from_forwarded_for(&headers, 2).as_deref(), Some("6.6.6.6"));
    }

    #[test]
    fn too_few_entries_or_no_header_give_no_address() {
        assert_eq!(from_forwarded_for(&xff(&["203.0.113.7"]), 2), None);
        assert_eq!(from_forwarded_for(&Headers::new(), 1), None);
        assert_eq!(from_forwarded_for(&xff(&["203.0.113.7"]), 0), None);
    }

    #[test]
    fn garbage_gives_no_address_and_ports_and_case_are_normalised() {
        assert_eq!(from_forwarded_for(&xff(&["1.1.1.1, unknown"]), 1), None);
        assert_eq!(from_forwarded_for(&xff(&["1.1.1.1, "]), 1), None);
        assert_eq!(
            from_forwarded_for(&xff(&["203.0.113.7:4711"]), 1).as_deref(),
            Some("203.0.113.7")
        );
        assert_eq!(
            from_forwarded_for(&xff(&["[2001:DB8:0::1]:443"]), 1).as_deref(),
            Some("2001:db8::1")
        );
    }
}
