//! Authentication primitives, all pure: EIP-4361 messages, EIP-191 signer recovery, HS256
//! access tokens, and random secrets with their stored hashes. Redis/libSQL state (nonces,
//! refresh families, revocations) is handled by the functions that call these.

pub mod jwt;
pub mod secret;
pub mod signature;
pub mod siwe;
