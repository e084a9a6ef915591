-- Where an admin's role came from (issue 12, item 7). `ADMIN_ADDRESSES` bootstraps admins at
-- login; an address taken off that list must lose the role at its next login or refresh, while
-- an admin granted by an operator (`otctl grant-admin`) keeps it. 1: the role is `admin` only
-- because the wallet was in `ADMIN_ADDRESSES` when it last logged in.
ALTER TABLE users ADD COLUMN admin_from_list INTEGER NOT NULL DEFAULT 0
    CHECK (admin_from_list IN (0, 1));

-- Admins that exist already: granted by `otctl grant-admin` when its audit row says so,
-- otherwise bootstrapped from the list (the only other way to become admin).
UPDATE users SET admin_from_list = 1
 WHERE role = 'admin'
   AND wallet NOT IN (SELECT target FROM audit_log
                       WHERE actor = 'otctl' AND action = 'user.role.set' AND target IS NOT NULL);
