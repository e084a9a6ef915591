-- Chain indexer projections (issue 4). Append-only tables keyed by the log's position
-- (block_number, tx_hash, log_index) are the indexer's facts: replays are no-ops, and a reorg
-- rollback is a DELETE above the fork block. `tickets` (chain rows have a token_id) and
-- `market_listings` are materialised from them: updated per batch, rebuilt after a rollback.

CREATE TABLE chain_events (
    block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    chain_event_id TEXT NOT NULL,
    organizer TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (block_number, tx_hash, log_index)
);
CREATE INDEX chain_events_id ON chain_events (chain_event_id);

CREATE TABLE chain_ticket_types (
    block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    chain_event_id TEXT NOT NULL,
    chain_type_id TEXT NOT NULL,
    price TEXT NOT NULL,
    supply TEXT NOT NULL,
    PRIMARY KEY (block_number, tx_hash, log_index)
);
CREATE INDEX chain_ticket_types_event ON chain_ticket_types (chain_event_id);

CREATE TABLE ticket_mints (
    block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    token_id TEXT NOT NULL,
    chain_event_id TEXT NOT NULL,
    chain_type_id TEXT NOT NULL,
    to_address TEXT NOT NULL,
    PRIMARY KEY (block_number, tx_hash, log_index)
);
CREATE INDEX ticket_mints_token ON ticket_mints (token_id);

CREATE TABLE ticket_status_changes (
    block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    token_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('used', 'revoked')),
    PRIMARY KEY (block_number, tx_hash, log_index)
);
CREATE INDEX ticket_status_changes_token ON ticket_status_changes (token_id);

CREATE TABLE listing_events (
    block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    listing_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('listed', 'cancelled', 'sold')),
    token_id TEXT,
    seller TEXT,
    buyer TEXT,
    price TEXT,
    PRIMARY KEY (block_number, tx_hash, log_index)
);
CREATE INDEX listing_events_listing ON listing_events (listing_id);

CREATE INDEX transfers_to ON transfers (to_address);
CREATE INDEX trades_listing ON trades (listing_id);
CREATE INDEX tickets_token ON tickets (token_id);

-- Orders paid on chain can be un-paid by a reorg that removes their deposit.
ALTER TABLE orders ADD COLUMN paid_via TEXT;
