-- A guard that names itself (issue 12, code shape). An atomic batch checks a condition with
-- `INSERT INTO batch_guard (ok) SELECT <condition>`: nothing is written when it holds, and when
-- it does not the trigger aborts the statement, and so the whole batch, with the message
-- `guard_failed` (code SQLITE_CONSTRAINT, extended SQLITE_CONSTRAINT_TRIGGER). The client
-- classifies that failure as `StatementFailure::Guard`; before this, a guard was `json()` of
-- text that is not JSON and was recognised by its "malformed JSON" message.
CREATE VIEW batch_guard (ok) AS SELECT NULL WHERE 0;

CREATE TRIGGER batch_guard_fails INSTEAD OF INSERT ON batch_guard
WHEN NEW.ok IS NOT 1
BEGIN
    SELECT RAISE(ABORT, 'guard_failed');
END;
