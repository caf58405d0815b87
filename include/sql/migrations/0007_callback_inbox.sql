-- 0007: ConnectWise callbacks. {{AUTO_ID}} is an increasing integer primary key (an identity
-- column on PostgreSQL, AUTOINCREMENT on SQLite): the order deliveries were accepted in.

-- Every delivery the receiver accepted, committed before it answered 2xx, so none is lost.
-- A delivery ConnectWise sends again (same MessageId) is kept once.
CREATE TABLE meta_callback_inbox (
    id {{AUTO_ID}},
    message_key TEXT NOT NULL UNIQUE,  -- MessageId, else sha256 of the body
    received_at {{TIMESTAMP}} NOT NULL,
    callback_type TEXT NOT NULL,       -- the delivery's Type: contact, company, ...
    action TEXT NOT NULL,              -- added, updated, deleted
    record_id BIGINT NOT NULL,         -- the delivery's ID
    entity TEXT,                       -- our entity, NULL for types we do not sync
    callback_id BIGINT,                -- CallbackObjectRecId: the callback entry that fired
    payload TEXT NOT NULL,             -- the body exactly as signed
    status TEXT NOT NULL DEFAULT 'pending',
        -- pending, applied, superseded (a later delivery of the record was applied),
        -- ignored (a type we do not sync), failed (gave up after max attempts, see last_error)
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    processed_at {{TIMESTAMP}},
    run_id TEXT
);
CREATE INDEX ix_meta_callback_inbox_status ON meta_callback_inbox (status, id);
CREATE INDEX ix_meta_callback_inbox_record ON meta_callback_inbox (entity, record_id);

-- The callback entries this project keeps in ConnectWise (system/callbacks), as of the last
-- install, refresh or uninstall. URLs are stored with the secret token masked.
CREATE TABLE meta_callback_entries (
    callback_id BIGINT PRIMARY KEY,
    callback_type TEXT NOT NULL,
    level TEXT NOT NULL,
    url_masked TEXT NOT NULL,
    inactive BOOLEAN NOT NULL,
    last_action TEXT NOT NULL,         -- created, updated, reactivated, unchanged, removed
    checked_at {{TIMESTAMP}} NOT NULL,
    run_id TEXT
);
