-- A reorg costs what it removes, and can remove a ticket that was checked in (issue 12).
--
-- 1. Rollback cost. The indexer's rollback rebuilt every chain ticket and listing and
--    re-checked every chain settlement, so a one-block reorg read the whole history. It now
--    rebuilds only the tokens and listings with a fact above the fork block and the
--    settlements above it. These indexes make each touched entity's latest fact one seek
--    (they replace the single-column ones, which they cover as a prefix), and let a vanished
--    refund's closing be found without a scan of `refund_records`.
CREATE INDEX transfers_token_position ON transfers (token_id, block_number, log_index);
DROP INDEX transfers_token;
CREATE INDEX ticket_status_changes_token_position ON ticket_status_changes (token_id, block_number, log_index);
DROP INDEX ticket_status_changes_token;
CREATE INDEX listing_events_listing_position ON listing_events (listing_id, block_number, log_index);
DROP INDEX listing_events_listing;
CREATE INDEX refund_records_closed_by ON refund_records (closed_by);

-- 2. Checked-in tickets. A reorg that removed the mint (or the paying deposit) of a ticket
--    that had been checked in deleted the ticket row, which `checkins.ticket_id` references:
--    the delete failed, and with it the rollback; the indexer stopped at the fork. The
--    check-in is history (someone was admitted; `scans` holds the audit) and stays. The ticket
--    row stays too, as a tombstone: `removed_at` set, its owner moved to `removed_owner` and
--    replaced by the zero address (no wallet owns it), status `revoked` (the door refuses it).
--    A mint of the same token on the new fork brings the row back. Tickets without check-in
--    history are still deleted (migrations/0006).
ALTER TABLE tickets ADD COLUMN removed_at INTEGER;
ALTER TABLE tickets ADD COLUMN removed_owner TEXT;

-- (0004's comment on `tickets_revoke_passes` says it covers a "reorg undo". It covers a
-- rollback that updates a ticket in place (0006); a ticket a rollback removes is covered by
-- 0006's delete trigger, a tombstone by the trigger below. 0004's text cannot be corrected in
-- place: the migration runner refuses an applied migration whose checksum changed
-- (shared/src/migrate.rs).)
--
-- A ticket that becomes a tombstone revokes its live pass with the reason a deleted ticket
-- gives (0006), before `tickets_revoke_passes` (0004, AFTER UPDATE) would call it `revoked`;
-- the pass rows stay, as their ticket does.
CREATE TRIGGER tickets_revoke_passes_on_removal BEFORE UPDATE OF removed_at ON tickets
WHEN OLD.removed_at IS NULL AND NEW.removed_at IS NOT NULL
BEGIN
  INSERT INTO pass_revocations (pass_id, ticket_id, event_id, reason, revoked_at)
    SELECT pass_id, ticket_id, event_id, 'ticket_removed', NEW.removed_at
      FROM ticket_passes WHERE ticket_id = NEW.id AND revoked_at IS NULL;
  UPDATE ticket_passes SET revoked_at = NEW.removed_at WHERE ticket_id = NEW.id AND revoked_at IS NULL;
END;
