//! EIP-191 (`personal_sign`) signer recovery over secp256k1, with alloy-primitives + k256.

use crate::domain::WalletAddress;
use alloy_primitives::Signature;

/// Why a signature could not be checked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// Not `0x` + 130 hex digits (r, s, v).
    #[error("signature must be 0x followed by 130 hex digits")]
    Malformed,
    /// The bytes are not a valid secp256k1 signature.
    #[error("signature is not valid: {0}")]
    Invalid(String),
}

/// The address whose key signed `message` with `personal_sign`
/// (`"\x19Ethereum Signed Message:\n" + len + message`, keccak-256).
///
/// # Errors
/// [`SignatureError`] when the signature is malformed or unrecoverable.
pub fn recover_personal_sign(
    message: &str,
    signature: &str,
) -> Result<WalletAddress, SignatureError> {
    let hex = signature
        .strip_prefix("0x")
        .ok_or(SignatureError::Malformed)?;
    if hex.len() != 130 {
        return Err(SignatureError::Malformed);
    }
    let bytes = hex::decode(hex).map_err(|_| SignatureError::Malformed)?;
    // Only the canonical recovery ids: 27/28 (what wallets produce) or 0/1.
    if !matches!(bytes[64], 0 | 1 | 27 | 28) {
        return Err(SignatureError::Invalid(
            "recovery id must be 27, 28, 0 or 1".into(),
        ));
    }
    let signature = Signature::try_from(bytes.as_slice())
        .map_err(|e| SignatureError::Invalid(e.to_string()))?;
    signature
        .recover_address_from_msg(message.as_bytes())
        .map(WalletAddress::from)
        .map_err(|e| SignatureError::Invalid(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    // Produced by ethers v6: `new Wallet(<anvil account 0 key>).signMessage("hello")`.
    const SIGNER: &str = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
    const HELLO_SIG: &str = "0xf16ea9a3478698f695fd1401bfe27e9e4a7e8e3da94aa72b021125e31fa899cc573c48ea3fe1d4ab61a9db10c19032026e3ed2dbccba5a178235ac27f94504311c";

    #[test]
    fn recovers_a_known_signer() {
        assert_eq!(
            recover_personal_sign("hello", HELLO_SIG).map(|a| a.checksummed()),
            Ok(SIGNER.to_owned())
        );
    }

    #[test]
    fn another_message_recovers_another_address() {
        let other = recover_personal_sign("hellO", HELLO_SIG).map(|a| a.checksummed());
        assert_ne!(other, Ok(SIGNER.to_owned()));
    }

    #[test]
    fn rejects_malformed_signatures() {
        assert_eq!(
            recover_personal_sign("hello", "0x1234"),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            recover_personal_sign("hello", &HELLO_SIG[2..]),
            Err(SignatureError::Malformed)
        );
        let bad_v = format!("{}ff", &HELLO_SIG[..HELLO_SIG.len() - 2]);
        assert!(recover_personal_sign("hello", &bad_v).is_err());
    }
}
