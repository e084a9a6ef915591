-- Nothing beyond the gate: a route whose own work needs no Redis still checks its rate limit
-- and its token's revocation in one call.
return 'OK'
