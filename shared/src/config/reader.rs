//! Reading configuration keys: each reader method records a problem instead of failing, so
//! an operator sees every bad key at once.

use super::rate::{RateLimit, RedisErrorPolicy};
use super::{ConfigProblem, MIN_SECRET_LEN, Secret};
use crate::domain::WalletAddress;

pub(super) struct Reader<F> {
    pub(super) lookup: F,
    pub(super) problems: Vec<ConfigProblem>,
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    pub(super) fn optional(&self, key: &'static str) -> Option<String> {
        (self.lookup)(key)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn required(&mut self, key: &'static str) -> String {
        self.optional(key).unwrap_or_else(|| {
            self.problem(key, "is missing");
            String::new()
        })
    }

    pub(super) fn url(&mut self, key: &'static str, schemes: &[&str]) -> String {
        let value = self.required(key);
        if !value.is_empty()
            && !schemes
                .iter()
                .any(|s| value.starts_with(&format!("{s}://")))
        {
            self.problem(key, &format!("must start with one of {schemes:?}"));
        }
        value
    }

    pub(super) fn number(
        &mut self,
        key: &'static str,
        default: i64,
        range: std::ops::RangeInclusive<i64>,
    ) -> i64 {
        match self.optional(key) {
            None => default,
            Some(s) => s
                .parse()
                .ok()
                .filter(|n| range.contains(n))
                .unwrap_or_else(|| {
                    self.problem(key, &format!("must be an integer in {range:?}"));
                    default
                }),
        }
    }

    pub(super) fn list(&self, key: &'static str) -> Vec<String> {
        self.optional(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A comma-separated list of addresses; each entry that does not parse is a problem.
    pub(super) fn addresses(&mut self, key: &'static str) -> Vec<WalletAddress> {
        let mut addresses = Vec::new();
        for entry in self.list(key) {
            match WalletAddress::parse(&entry) {
                Ok(address) => addresses.push(address),
                Err(e) => self.problem(key, &format!("{entry} {e}")),
            }
        }
        addresses
    }

    /// `on` or `off` (also `true`/`false`, `1`/`0`); unset: `default`.
    pub(super) fn switch(&mut self, key: &'static str, default: bool) -> bool {
        match self
            .optional(key)
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None => default,
            Some("on" | "true" | "1") => true,
            Some("off" | "false" | "0") => false,
            Some(_) => {
                self.problem(key, "must be on or off");
                default
            }
        }
    }

    pub(super) fn rate_limit(&mut self, key: &'static str, default: RateLimit) -> RateLimit {
        match self.optional(key) {
            None => default,
            Some(s) => RateLimit::parse(&s).unwrap_or_else(|| {
                self.problem(key, "must be <rate per second>:<burst>, e.g. 10:20");
                default
            }),
        }
    }

    pub(super) fn redis_error_policy(&mut self, key: &'static str) -> RedisErrorPolicy {
        match self.optional(key) {
            None => RedisErrorPolicy::DEFAULT,
            Some(s) => RedisErrorPolicy::parse(&s).unwrap_or_else(|| {
                self.problem(
                    key,
                    "must be open, closed, or group=open|closed[,...] with groups auth, read, write, scanner",
                );
                RedisErrorPolicy::DEFAULT
            }),
        }
    }

    /// A secret of at least [`MIN_SECRET_LEN`] bytes, or `None` when unset.
    pub(super) fn secret(&mut self, key: &'static str) -> Option<Vec<u8>> {
        let value = self.optional(key)?;
        if value.len() < MIN_SECRET_LEN {
            self.problem(key, &format!("must be at least {MIN_SECRET_LEN} bytes"));
        }
        Some(value.into_bytes())
    }

    /// [`Reader::secret`] kept as text (a bearer token or secret compared as sent).
    pub(super) fn secret_text(&mut self, key: &'static str) -> Option<Secret> {
        self.secret(key)
            .map(|bytes| Secret::new(String::from_utf8(bytes).unwrap_or_default()))
    }

    /// `QR_SECRETS`: `kid:secret[,kid:secret…]`, the first one signs.
    pub(super) fn qr_secrets(&mut self, key: &'static str) -> Vec<(String, Vec<u8>)> {
        let mut keys = Vec::new();
        for entry in self.list(key) {
            let Some((kid, secret)) = entry.split_once(':') else {
                self.problem(key, "must be kid:secret[,kid:secret...]");
                continue;
            };
            let kid = kid.trim();
            if kid.is_empty() || kid.len() > 16 || !kid.bytes().all(|b| b.is_ascii_alphanumeric()) {
                self.problem(key, "key ids must be 1 to 16 letters or digits");
            } else if secret.trim().len() < MIN_SECRET_LEN {
                self.problem(
                    key,
                    &format!("secrets must be at least {MIN_SECRET_LEN} bytes"),
                );
            } else if keys.iter().any(|(k, _)| k == kid) {
                self.problem(key, "key ids must be unique");
            } else {
                keys.push((kid.to_owned(), secret.trim().as_bytes().to_vec()));
            }
        }
        keys
    }

    pub(super) fn problem(&mut self, key: &'static str, problem: &str) {
        self.problems.push(ConfigProblem {
            key,
            problem: problem.to_owned(),
        });
    }
}
