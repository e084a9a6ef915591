//! Every Redis key the API writes, in one place, under the configured prefix.

use crate::services::Services;

fn key<S: Services>(services: &S, rest: &str) -> String {
    format!("{}{rest}", services.config().redis.key_prefix)
}

// The seat inventory's keys take the prefix itself: `otctl reconcile` uses them natively,
// without a `Services`.

/// One part of an event's hold inventory (`meta`, `seats`, …; see `scripts/hold_lib.lua`).
/// The event id is a hash tag, so one event's keys share a slot.
pub fn inventory(prefix: &str, event_id: &str, part: &str) -> String {
    format!("{prefix}inv:{{{event_id}}}:{part}")
}

/// The prefix of hold record keys; a hold's record is this plus its id.
pub fn hold_record_prefix(prefix: &str) -> String {
    format!("{prefix}hold:")
}

/// The record of hold `id`.
pub fn hold_record(prefix: &str, id: &str) -> String {
    format!("{}{id}", hold_record_prefix(prefix))
}

/// The set of events that have an inventory (for the scheduled sweep and reconcile).
pub fn inventory_events(prefix: &str) -> String {
    format!("{prefix}inv:events")
}

/// A SIWE challenge nonce → `{address}|{chainId}`.
pub fn siwe_nonce<S: Services>(s: &S, nonce: &str) -> String {
    key(s, &format!("auth:siwe:{nonce}"))
}

/// A simple-login nonce → address.
pub fn login_nonce<S: Services>(s: &S, nonce: &str) -> String {
    key(s, &format!("auth:login:{nonce}"))
}

/// A session's cached state (`active`, `active|<role>`, `revoked`; see
/// `extract::session`). Refresh tokens themselves are verified in libSQL only.
pub fn refresh_family<S: Services>(s: &S, family: &str) -> String {
    key(s, &format!("auth:rtf:{family}"))
}

/// A revoked access-token id (until the token would have expired).
pub fn revoked_jti<S: Services>(s: &S, jti: &str) -> String {
    key(s, &format!("auth:revoked:{jti}"))
}

/// A rate-limit bucket.
pub fn rate_bucket<S: Services>(s: &S, group: &str, kind: &str, id: &str) -> String {
    key(s, &format!("rl:{group}:{kind}:{id}"))
}

/// Cached public reads of one event (hash: field per resource).
pub fn event_cache<S: Services>(s: &S, event_id: &str) -> String {
    key(s, &format!("cache:event:{event_id}"))
}

/// Cached public event lists (hash: field per normalised query).
pub fn list_cache<S: Services>(s: &S) -> String {
    key(s, "cache:events")
}

/// One part of an event's waiting room (`members`, `pre`, `pre-seq`, `post-seq`; see
/// `scripts/queue_join.lua`).
pub fn queue<S: Services>(s: &S, event_id: &str, part: &str) -> String {
    key(s, &format!("queue:{{{event_id}}}:{part}"))
}

/// An idempotency record of `POST /v1/orders`, per wallet and key.
pub fn idempotency<S: Services>(s: &S, wallet: &str, idempotency_key: &str) -> String {
    key(s, &format!("idem:orders:{wallet}:{idempotency_key}"))
}

/// A scan's nonce: its answer while it is replayed from Redis.
pub fn scan_nonce<S: Services>(s: &S, verifier_key_id: &str, nonce: &str) -> String {
    key(s, &format!("scan:{verifier_key_id}:{nonce}"))
}

/// The one-time check-in lock of a ticket (who admitted it).
pub fn checkin_lock<S: Services>(s: &S, ticket_id: &str) -> String {
    key(s, &format!("checkin:{ticket_id}"))
}

/// One part of an event's catalog snapshot in Redis (`snap`, `seats`, `version`; see
/// `scripts/catalog_lib.lua`), in the event's hash slot like its inventory.
pub fn catalog(prefix: &str, event_id: &str, part: &str) -> String {
    format!("{prefix}cat:{{{event_id}}}:{part}")
}

/// The global catalog epoch: bumped by a global pause or resume, it outdates every snapshot.
pub fn catalog_epoch(prefix: &str) -> String {
    format!("{prefix}cat:epoch")
}

/// The deny list as the waiting room reads it: wallet → reason, plus `__loaded` once it was
/// filled from libSQL.
pub fn deny_cache(prefix: &str) -> String {
    format!("{prefix}sale:deny")
}

/// A verifier key's cached record (`{event, name, secretHash, revoked}`, or `{missing}`), so
/// a scan checks its key inside its Redis script (see `checkin::verifier_key`).
pub fn verifier_cache<S: Services>(s: &S, key_id: &str) -> String {
    key(s, &format!("verifier:{key_id}"))
}

/// The list of `scans` audit rows waiting for the drain (see `checkin::buffer`).
pub fn scan_buffer<S: Services>(s: &S) -> String {
    key(s, "scans:buffer")
}

/// Buffered audit rows the drain could not read (kept for an operator, never dropped).
pub fn scan_buffer_dead<S: Services>(s: &S) -> String {
    key(s, "scans:buffer:dead")
}

/// The lease of the one drain of the audit buffer running at a time.
pub fn scan_drain_lease<S: Services>(s: &S) -> String {
    key(s, "scans:drain")
}

/// The last `/ready` verdict, shared by instances for `READY_CACHE_MS` (see `routes::ready`).
pub fn ready_verdict<S: Services>(s: &S) -> String {
    key(s, "ready:last")
}

/// The cached reserves of one pair of the configured swap factory (see `crate::swap`).
pub fn swap_reserves<S: Services>(
    s: &S,
    factory: &alloy_primitives::Address,
    pair: &alloy_primitives::Address,
) -> String {
    key(s, &format!("swap:{factory:#x}:{pair:#x}"))
}
