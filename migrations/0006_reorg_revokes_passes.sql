-- A reorg revokes the passes it invalidates (issue 12, item 3). The indexer's rebuild used to
-- delete every chain ticket and insert it again, which `tickets_revoke_passes` (AFTER UPDATE,
-- 0004) never saw: a pass issued to the owner of a transfer that a reorg removed stayed live.
-- (With foreign keys on, as libSQL has them, that delete even failed once a pass existed, and
-- the rollback with it: the indexer stopped at the fork.) The rebuild now updates a ticket row
-- in place (an upsert), so that trigger judges owner, seat and status changes as it does for
-- every other code path, and only deletes a ticket whose mint (or, for an order's ticket, whose
-- deposit) is gone. This trigger covers that delete. No pass can outlive its ticket row otherwise
-- (the foreign key), so no pass needs revoking on INSERT.

-- A ticket row that disappears (its mint or its paying deposit reorged away) revokes its live
-- pass; its pass rows go with it, as `ticket_passes.ticket_id` references the ticket (libSQL
-- enforces foreign keys), and `pass_revocations` keeps what scanners need.
CREATE TRIGGER tickets_revoke_passes_on_delete BEFORE DELETE ON tickets
BEGIN
  INSERT INTO pass_revocations (pass_id, ticket_id, event_id, reason, revoked_at)
    SELECT pass_id, ticket_id, event_id, 'ticket_removed',
           CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)
      FROM ticket_passes WHERE ticket_id = OLD.id AND revoked_at IS NULL;
  DELETE FROM ticket_passes WHERE ticket_id = OLD.id;
END;
