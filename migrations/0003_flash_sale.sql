-- Flash sale (issue 5): sale settings, the pause switch, the deny list, order payment states,
-- ticket serials, refund records, and the bookkeeping that makes payments idempotent
-- (Stripe events by id, chain deposits and refunds by log position).

CREATE TABLE sale_settings (
    event_id TEXT PRIMARY KEY REFERENCES events (id),
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    admission_per_minute INTEGER NOT NULL,
    max_active INTEGER NOT NULL,
    queue_mode TEXT NOT NULL CHECK (queue_mode IN ('fifo', 'random')),
    waiting_room INTEGER NOT NULL DEFAULT 1,
    hold_ttl_secs INTEGER NOT NULL,
    per_wallet_limit INTEGER NOT NULL,
    payment_window_secs INTEGER NOT NULL,
    session_secs INTEGER NOT NULL,
    refund_window_secs INTEGER NOT NULL,
    waitlist_offer_secs INTEGER NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The pause switch: a row per paused scope ('*' pauses every sale, else an event id).
CREATE TABLE sale_pauses (
    scope TEXT PRIMARY KEY,
    paused_by TEXT NOT NULL,
    paused_at INTEGER NOT NULL,
    reason TEXT
);

-- Wallets refused at the waiting room's door.
CREATE TABLE deny_list (
    wallet TEXT PRIMARY KEY,
    reason TEXT,
    added_by TEXT NOT NULL,
    added_at INTEGER NOT NULL
);

-- Orders gain the payment outcomes (failed, underpaid, overpaid) and what was paid. SQLite
-- cannot change a CHECK in place, so the table is rebuilt; order_items' foreign keys resolve
-- again once the new table has the old name, and deferring them lets the swap commit.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE orders_v3 (
    id TEXT PRIMARY KEY,
    order_ref TEXT NOT NULL UNIQUE,
    event_id TEXT NOT NULL REFERENCES events (id),
    payer TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending_payment', 'paid', 'overpaid', 'underpaid', 'failed', 'expired', 'cancelled', 'refunded')),
    total TEXT NOT NULL,
    currency TEXT NOT NULL,
    hold_id TEXT,
    payment_deadline INTEGER NOT NULL,
    paid_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    paid_via TEXT,
    payment_intent TEXT,
    paid_amount TEXT,
    paid_token TEXT
);
INSERT INTO orders_v3 (id, order_ref, event_id, payer, status, total, currency, hold_id, payment_deadline, paid_at, created_at, updated_at, paid_via)
    SELECT id, order_ref, event_id, payer, status, total, currency, hold_id, payment_deadline, paid_at, created_at, updated_at, paid_via FROM orders;
DROP TABLE orders;
ALTER TABLE orders_v3 RENAME TO orders;
CREATE INDEX orders_payer ON orders (payer, created_at);
CREATE INDEX orders_event_status ON orders (event_id, status);
CREATE INDEX orders_status_deadline ON orders (status, payment_deadline);

-- A seat may be in many orders over time (expired, refunded); only one live ticket may hold
-- it, which the index on tickets now guards.
DROP INDEX order_items_seat;
ALTER TABLE tickets ADD COLUMN serial TEXT;
CREATE UNIQUE INDEX tickets_serial ON tickets (event_id, serial) WHERE serial IS NOT NULL;
CREATE UNIQUE INDEX tickets_live_seat ON tickets (event_id, seat_label) WHERE seat_label IS NOT NULL AND status IN ('valid', 'used');
CREATE INDEX tickets_order ON tickets (order_id);

-- What an operator must pay back, and why. Card refunds name the payment intent, chain
-- refunds the payer, token and amount; an on-chain Refunded event closes the latter.
CREATE TABLE refund_records (
    id TEXT PRIMARY KEY,
    order_id TEXT,
    order_ref TEXT NOT NULL,
    reason TEXT NOT NULL,
    method TEXT NOT NULL CHECK (method IN ('card', 'chain')),
    payment_intent TEXT,
    payer TEXT,
    token TEXT,
    amount TEXT NOT NULL,
    currency TEXT,
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    source TEXT,
    closed_by TEXT,
    created_at INTEGER NOT NULL,
    closed_at INTEGER
);
CREATE INDEX refund_records_order_ref ON refund_records (order_ref, status);
CREATE INDEX refund_records_source ON refund_records (source);

-- Card-payment webhooks handled, by provider event id (a replay changes nothing).
CREATE TABLE payment_events (
    provider TEXT NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    order_id TEXT,
    outcome TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (provider, event_id)
);

-- Chain payment facts (deposits, refunds) applied to orders, by log position. A deposit with
-- no row here is pending (a paused sale, or not yet settled); a reorg that removes the fact
-- undoes what its row records.
CREATE TABLE chain_settlements (
    block_number INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    log_index INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('deposit', 'refund')),
    order_id TEXT,
    prev_status TEXT,
    outcome TEXT NOT NULL,
    settled_at INTEGER NOT NULL,
    PRIMARY KEY (block_number, tx_hash, log_index)
);
