-- A ticket type's name is unique within its event (issue 13, item 4): a client lists types by
-- name, and two "VIP" types of one event are an organizer's mistake the API now refuses with
-- 409 `TICKET_TYPE_NAME_TAKEN`. Names compare ignoring ASCII case ("VIP" and "vip" clash), as
-- a buyer reading them would.
--
-- Existing duplicates are kept, never deleted (orders, tickets and seats reference them): the
-- oldest of each name keeps it, every later one gets its id appended, which no other type can
-- have, so the index below builds on any data and the organizer can see which is which.
UPDATE ticket_types
SET name = name || ' (' || id || ')'
WHERE EXISTS (
    SELECT 1 FROM ticket_types AS older
    WHERE older.event_id = ticket_types.event_id
      AND older.name = ticket_types.name COLLATE NOCASE
      AND older.rowid < ticket_types.rowid
);

CREATE UNIQUE INDEX ticket_types_event_name ON ticket_types (event_id, name COLLATE NOCASE);
