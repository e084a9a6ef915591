//! Secrets: a type that never prints, and the signing secrets beyond `JWT_SECRET`.

use super::reader::Reader;
use std::fmt;

/// A secret string: never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret itself; call only where it is used.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The minimum length of `JWT_SECRET` (HS256 keys shorter than the hash are weak).
pub const MIN_JWT_SECRET_LEN: usize = 32;
/// The minimum length of the other secrets (`QR_SECRETS`, `PASS_KEY_SEED`, `ADMISSION_SECRET`,
/// `CRON_SECRET`).
pub const MIN_SECRET_LEN: usize = 32;

/// What the API signs besides sessions, each under its own secret: online QR codes, the
/// per-event offline pass keys, and the waiting room's queue tickets and admission tokens.
/// A leak of one (a door device's config, say) then forges nothing else.
pub(super) struct SigningSecrets {
    /// `QR_SECRETS`: `(kid, secret)`, the first signs.
    pub qr_keys: Vec<(String, Vec<u8>)>,
    /// `PASS_KEY_SEED`.
    pub pass_seed: Vec<u8>,
    /// `ADMISSION_SECRET` (derived: hex text).
    pub admission: Secret,
}

/// Whether `url`'s host is a loopback address (`localhost`, `127.0.0.0/8`, `[::1]`): a local
/// development stack, the only place secrets may be derived from `JWT_SECRET`.
pub fn is_loopback_url(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => authority.rsplit_once(':').map_or(authority, |(h, _)| h),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl SigningSecrets {
    /// Reads the signing secrets. Unset ones are derived from `jwt_secret` when `local` (a
    /// loopback `PUBLIC_URL`), and a problem otherwise; a secret equal to `JWT_SECRET` is one
    /// too, as it would not be separate.
    pub(super) fn read<F: Fn(&str) -> Option<String>>(
        r: &mut Reader<F>,
        jwt_secret: &str,
        local: bool,
    ) -> SigningSecrets {
        let mut qr_keys = r.qr_secrets("QR_SECRETS");
        if qr_keys.iter().any(|(_, s)| s == jwt_secret.as_bytes()) {
            r.problem("QR_SECRETS", "must differ from JWT_SECRET");
        }
        if qr_keys.is_empty() {
            if !local {
                r.problem("QR_SECRETS", REQUIRED);
            }
            qr_keys.push(("k0".to_owned(), derive(jwt_secret, "ot-qr-hmac")));
        }
        // A configured secret (refused when it is JWT_SECRET itself), or `None` to derive.
        let mut own = |key: &'static str| {
            let secret = r.secret(key);
            match &secret {
                Some(s) if s == jwt_secret.as_bytes() => {
                    r.problem(key, "must differ from JWT_SECRET");
                }
                None if !local => r.problem(key, REQUIRED),
                _ => {}
            }
            secret
        };
        let pass_seed = own("PASS_KEY_SEED").unwrap_or_else(|| derive(jwt_secret, "ot-pass-seed"));
        // Held as text: configured, it came from text; derived, it is written in hex.
        let admission = Secret::new(own("ADMISSION_SECRET").map_or_else(
            || hex_text(&derive(jwt_secret, "ot-admission")),
            |s| String::from_utf8_lossy(&s).into_owned(),
        ));
        SigningSecrets {
            qr_keys,
            pass_seed,
            admission,
        }
    }
}

const REQUIRED: &str = "is required when PUBLIC_URL is not a loopback address \
                        (deriving it from JWT_SECRET is for local development only)";

fn hex_text(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A secret derived from `JWT_SECRET` for `purpose` (local development only).
fn derive(jwt_secret: &str, purpose: &str) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(jwt_secret.as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(purpose.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::is_loopback_url;

    #[test]
    fn loopback_urls_are_local_development_only() {
        for url in [
            "http://127.0.0.1:8787",
            "http://localhost:3000/",
            "http://[::1]:80",
            "http://127.9.9.9",
            "https://LOCALHOST",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "https://tickets.example.com",
            "https://tickets.example.com:8443/",
            "http://10.0.0.1:8080",
            "http://localhost.example.com",
            "http://127.0.0.1.nip.io",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }
}
