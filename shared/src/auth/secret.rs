//! Random secrets (nonces, refresh tokens, verifier keys) and the hashes we store instead.

use crate::error::Error;
use crate::ports::Rng;
use sha2::{Digest, Sha256};

const ALPHANUMERIC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// `len` random alphanumerics, uniformly (rejection sampling: no modulo bias).
///
/// # Errors
/// As [`Rng::fill`]: the platform's generator failed.
pub fn alphanumeric(rng: &impl Rng, len: usize) -> Result<String, Error> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rng.fill(&mut buf)?;
        for byte in buf {
            // 248 = 4 * 62: bytes at or above it would favour the first symbols.
            if byte < 248 && out.len() < len {
                out.push(char::from(ALPHANUMERIC[usize::from(byte % 62)]));
            }
        }
    }
    Ok(out)
}

/// Lower-case hex SHA-256: how refresh tokens and verifier-key secrets are stored.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares without an early exit, so timing does not leak how much matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    struct CountingRng(Cell<u8>);
    impl Rng for CountingRng {
        fn fill(&self, buf: &mut [u8]) -> Result<(), Error> {
            for b in buf {
                *b = self.0.get();
                self.0.set(self.0.get().wrapping_add(1));
            }
            Ok(())
        }
    }

    #[test]
    fn alphanumerics_have_the_length_and_alphabet() {
        let s = alphanumeric(&CountingRng(Cell::new(0)), 300).expect("the fake never fails");
        assert_eq!(s.len(), 300);
        assert!(s.bytes().all(|b| b.is_ascii_alphanumeric()));
        // Bytes 248..=255 are skipped, so every symbol appears equally often per 248 bytes.
        assert!(s.starts_with("ABCDEFGHIJ"));
    }

    #[test]
    fn hashes_and_compares() {
        assert_eq!(
            sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"", b"x"));
    }
}
