-- Tickets at the door: offline passes and their revocations, every scan, and the check-in row
-- that makes "exactly one admission per ticket" durable (checkins.ticket_id is UNIQUE since 0001).

ALTER TABLE checkins ADD COLUMN event_id TEXT;
ALTER TABLE checkins ADD COLUMN device_id TEXT;
ALTER TABLE checkins ADD COLUMN nonce TEXT;
ALTER TABLE checkins ADD COLUMN offline INTEGER NOT NULL DEFAULT 0;
CREATE INDEX checkins_event ON checkins (event_id, scanned_at);

-- Every scan, accepted or not: who (verifier key, device), where (gate), when, what we answered.
-- (verifier_key_id, nonce) is unique: a retried scan gets the stored answer back.
CREATE TABLE scans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id TEXT NOT NULL,
    verifier_key_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    gate TEXT NOT NULL,
    nonce TEXT NOT NULL,
    ticket_id TEXT,
    result TEXT NOT NULL,
    offline INTEGER NOT NULL DEFAULT 0,
    scanned_at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    response TEXT NOT NULL,
    UNIQUE (verifier_key_id, nonce)
);
CREATE INDEX scans_event ON scans (event_id, received_at);
CREATE INDEX scans_ticket ON scans (ticket_id);

-- Offline passes issued to holders. At most one live pass per ticket.
CREATE TABLE ticket_passes (
    pass_id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    event_id TEXT NOT NULL,
    key_generation INTEGER NOT NULL,
    owner TEXT NOT NULL,
    seat_label TEXT,
    valid_from INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    issued_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE UNIQUE INDEX ticket_passes_live ON ticket_passes (ticket_id) WHERE revoked_at IS NULL;

-- What scanners pull: `seq` is the cursor of `?since=`.
CREATE TABLE pass_revocations (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    pass_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    event_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    revoked_at INTEGER NOT NULL
);
CREATE INDEX pass_revocations_event ON pass_revocations (event_id, seq);

-- Instructions for an operator/relayer to mark an on-chain ticket used (we hold no keys).
CREATE TABLE chain_instructions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('mark_used')),
    token_id TEXT NOT NULL,
    ticket_id TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'done')),
    created_at INTEGER NOT NULL,
    UNIQUE (kind, token_id)
);

CREATE INDEX tickets_event_updated ON tickets (event_id, updated_at);

-- A ticket that changes owner or seat, or is revoked, revokes its live pass, whichever code path
-- changed it (refund, chain transfer, reorg undo): the trigger keeps them from drifting apart.
CREATE TRIGGER tickets_revoke_passes AFTER UPDATE OF owner, seat_label, status ON tickets
WHEN lower(NEW.owner) IS NOT lower(OLD.owner)
  OR NEW.seat_label IS NOT OLD.seat_label
  OR (NEW.status = 'revoked' AND OLD.status IS NOT 'revoked')
BEGIN
  INSERT INTO pass_revocations (pass_id, ticket_id, event_id, reason, revoked_at)
    SELECT pass_id, ticket_id, event_id,
           CASE WHEN NEW.status = 'revoked' THEN 'revoked'
                WHEN lower(NEW.owner) IS NOT lower(OLD.owner) THEN 'owner_changed'
                ELSE 'seat_changed' END,
           NEW.updated_at
      FROM ticket_passes WHERE ticket_id = NEW.id AND revoked_at IS NULL;
  UPDATE ticket_passes SET revoked_at = NEW.updated_at WHERE ticket_id = NEW.id AND revoked_at IS NULL;
END;
