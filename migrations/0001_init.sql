-- OnlineTicket Edge: initial schema (libSQL / SQLite).
-- Timestamps are ms since the Unix epoch; money and token amounts are decimal strings (wei or
-- minor units) so no amount is ever rounded; addresses are stored EIP-55 checksummed.

-- Scheduled jobs: one row per job, updated by every tick (operators and tests watch it).
CREATE TABLE cron_heartbeats (
    job TEXT PRIMARY KEY,
    last_run_at INTEGER NOT NULL,
    last_trigger TEXT NOT NULL,
    runs INTEGER NOT NULL
);

-- Accounts (wallet login).
CREATE TABLE users (
    wallet TEXT PRIMARY KEY,
    role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'organizer', 'admin')),
    created_at INTEGER NOT NULL,
    last_login INTEGER
);

-- Who did what, for every admin/organizer write.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    request_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX audit_log_actor ON audit_log (actor, created_at);
CREATE INDEX audit_log_created ON audit_log (created_at);

-- Event catalog.
CREATE TABLE events (
    id TEXT PRIMARY KEY,
    organizer TEXT NOT NULL REFERENCES users (wallet),
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    venue TEXT NOT NULL DEFAULT '',
    timezone TEXT NOT NULL DEFAULT 'UTC',
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    sale_starts_at INTEGER,
    sale_ends_at INTEGER,
    status TEXT NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled')),
    metadata TEXT NOT NULL DEFAULT '{}',
    contract_address TEXT,
    chain_event_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (ends_at >= starts_at)
);
CREATE INDEX events_status_start ON events (status, starts_at);
CREATE INDEX events_organizer ON events (organizer);
CREATE UNIQUE INDEX events_chain_id ON events (chain_event_id) WHERE chain_event_id IS NOT NULL;

CREATE TABLE ticket_types (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id),
    name TEXT NOT NULL,
    price TEXT NOT NULL,
    currency TEXT NOT NULL,
    supply INTEGER NOT NULL CHECK (supply >= 0),
    per_wallet_limit INTEGER,
    sale_starts_at INTEGER,
    sale_ends_at INTEGER,
    chain_type_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX ticket_types_event ON ticket_types (event_id);

CREATE TABLE seats (
    event_id TEXT NOT NULL REFERENCES events (id),
    label TEXT NOT NULL,
    section TEXT NOT NULL DEFAULT '',
    row_label TEXT NOT NULL DEFAULT '',
    number TEXT NOT NULL DEFAULT '',
    ticket_type_id TEXT NOT NULL REFERENCES ticket_types (id),
    PRIMARY KEY (event_id, label)
);

-- Scanner keys: only a hash of the secret is stored.
CREATE TABLE verifier_keys (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL REFERENCES events (id),
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX verifier_keys_event ON verifier_keys (event_id);

-- Orders (the durable truth of what is sold; Redis only gates).
CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    order_ref TEXT NOT NULL UNIQUE,
    event_id TEXT NOT NULL REFERENCES events (id),
    payer TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending_payment', 'paid', 'expired', 'cancelled', 'refunded')),
    total TEXT NOT NULL,
    currency TEXT NOT NULL,
    hold_id TEXT,
    payment_deadline INTEGER NOT NULL,
    paid_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX orders_payer ON orders (payer, created_at);
CREATE INDEX orders_event_status ON orders (event_id, status);

CREATE TABLE order_items (
    order_id TEXT NOT NULL REFERENCES orders (id),
    ticket_type_id TEXT NOT NULL REFERENCES ticket_types (id),
    seat_label TEXT,
    price TEXT NOT NULL,
    quantity INTEGER NOT NULL DEFAULT 1 CHECK (quantity > 0)
);
CREATE INDEX order_items_order ON order_items (order_id);
CREATE UNIQUE INDEX order_items_seat ON order_items (ticket_type_id, seat_label) WHERE seat_label IS NOT NULL;

-- Tickets: from paid orders and from the chain (the indexer's projection).
CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    token_id TEXT UNIQUE,
    event_id TEXT NOT NULL,
    ticket_type_id TEXT,
    order_id TEXT,
    owner TEXT NOT NULL,
    seat_label TEXT,
    status TEXT NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'used', 'revoked')),
    mint_tx TEXT,
    mint_block INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX tickets_owner ON tickets (owner);
CREATE INDEX tickets_event ON tickets (event_id, status);

CREATE TABLE checkins (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id TEXT NOT NULL UNIQUE REFERENCES tickets (id),
    verifier_key_id TEXT,
    gate TEXT,
    scanned_at INTEGER NOT NULL
);

-- Chain indexer: cursor, recent block hashes (reorg window), raw logs.
CREATE TABLE indexer_cursor (
    chain_id INTEGER PRIMARY KEY,
    last_block INTEGER NOT NULL,
    last_block_hash TEXT,
    updated_at INTEGER NOT NULL
);

CREATE TABLE indexed_blocks (
    chain_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    hash TEXT NOT NULL,
    parent_hash TEXT NOT NULL,
    PRIMARY KEY (chain_id, number)
);

CREATE TABLE raw_logs (
    chain_id INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    address TEXT NOT NULL,
    topic0 TEXT,
    topics TEXT NOT NULL,
    data TEXT NOT NULL,
    decoded INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (block_number, tx_hash, log_index)
);
CREATE INDEX raw_logs_address ON raw_logs (address, block_number);

-- Chain projections.
CREATE TABLE transfers (
    block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    token_id TEXT NOT NULL,
    from_address TEXT NOT NULL,
    to_address TEXT NOT NULL,
    PRIMARY KEY (block_number, tx_hash, log_index)
);
CREATE INDEX transfers_token ON transfers (token_id);

CREATE TABLE market_listings (
    id TEXT PRIMARY KEY,
    token_id TEXT NOT NULL,
    event_id TEXT,
    seller TEXT NOT NULL,
    price TEXT NOT NULL,
    currency TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('listed', 'cancelled', 'sold')),
    created_block INTEGER NOT NULL,
    updated_block INTEGER NOT NULL
);
CREATE INDEX market_listings_status ON market_listings (status, event_id);
CREATE INDEX market_listings_seller ON market_listings (seller);

CREATE TABLE trades (
    listing_id TEXT NOT NULL,
    buyer TEXT NOT NULL,
    price TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    PRIMARY KEY (block_number, tx_hash, log_index)
);
CREATE INDEX trades_buyer ON trades (buyer);

CREATE TABLE deposits (
    order_ref TEXT NOT NULL,
    payer TEXT NOT NULL,
    token TEXT NOT NULL,
    amount TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    PRIMARY KEY (block_number, tx_hash, log_index)
);
CREATE INDEX deposits_order_ref ON deposits (order_ref);

CREATE TABLE refunds (
    order_ref TEXT NOT NULL,
    payer TEXT NOT NULL,
    amount TEXT NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    PRIMARY KEY (block_number, tx_hash, log_index)
);
