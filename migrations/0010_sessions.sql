-- Sessions (refresh-token families) in libSQL (issue 13, item 2). Redis caches a session's
-- state for the gate (`auth:rtf:<family>`); a Redis loss must never make a logged-out or
-- reused session valid again, and must not log everyone out: this table is the truth the
-- cache is refilled from, and the only place a refresh token is verified.
-- `token_hash` is the SHA-256 of the live refresh token, `previous_hash` that of the one it
-- replaced (presenting it again is reuse: the family is revoked). `expires_at` moves forward
-- at every rotation. `revoked_reason`: 'logout' | 'reused'.
CREATE TABLE sessions (
    family TEXT PRIMARY KEY,
    wallet TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    previous_hash TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_reason TEXT CHECK (revoked_reason IN ('logout', 'reused'))
);
-- A role change rewrites the cached state of the wallet's live sessions.
CREATE INDEX sessions_live_by_wallet ON sessions (wallet, expires_at) WHERE revoked_at IS NULL;
