-- Demo data (times in ms since epoch; amounts in wei as decimal strings).
INSERT OR IGNORE INTO users (wallet, role, created_at) VALUES
    ('0x70997970C51812dc3A010C7d01b50e0d17dc79C8', 'organizer', 1763700000000);
INSERT OR IGNORE INTO events (id, organizer, title, description, venue, timezone, starts_at, ends_at,
    sale_starts_at, sale_ends_at, status, metadata, created_at, updated_at) VALUES
    ('evt_00000000000000000001', '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', 'Edge Rust Night',
     'A demo concert for the local stack.', 'Wasm Hall, Berlin', 'Europe/Berlin',
     1798761600000, 1798776000000, 1763700000000, 1798761600000, 'published',
     '{"genre":"demo"}', 1763700000000, 1763700000000);
INSERT OR IGNORE INTO ticket_types (id, event_id, name, price, currency, supply, per_wallet_limit, created_at) VALUES
    ('tt_00000000000000000001', 'evt_00000000000000000001', 'General admission', '10000000000000000', 'ETH', 500, 4, 1763700000000),
    ('tt_00000000000000000002', 'evt_00000000000000000001', 'VIP seat', '50000000000000000', 'ETH', 4, 2, 1763700000000);
INSERT OR IGNORE INTO seats (event_id, label, section, row_label, number, ticket_type_id) VALUES
    ('evt_00000000000000000001', 'VIP-A-1', 'VIP', 'A', '1', 'tt_00000000000000000002'),
    ('evt_00000000000000000001', 'VIP-A-2', 'VIP', 'A', '2', 'tt_00000000000000000002'),
    ('evt_00000000000000000001', 'VIP-A-3', 'VIP', 'A', '3', 'tt_00000000000000000002'),
    ('evt_00000000000000000001', 'VIP-A-4', 'VIP', 'A', '4', 'tt_00000000000000000002');
-- A scanner key for the demo event, so /scanner/ can be tried at once:
-- X-Verifier-Key: otvk_00000000000000d0_demo-door-secret-demo-door-secret-0001 (only its hash is stored).
INSERT OR IGNORE INTO verifier_keys (id, event_id, name, secret_hash, created_by, created_at) VALUES
    ('vk_00000000000000d0', 'evt_00000000000000000001', 'Demo door',
     'b4b3453aea6fe78a8cc3afafef877db905dc6da0915400532a25a491e1118a32',
     '0x70997970C51812dc3A010C7d01b50e0d17dc79C8', 1763700000000);
