-- Staging tables and v_sync_freshness are generated from the registry and the mapping
-- (connectwise.staging.schema); this remembers the checksum of each generated definition so
-- a view is replaced only when the set of entities changed.
CREATE TABLE meta_generated (
    name TEXT NOT NULL PRIMARY KEY,
    checksum TEXT NOT NULL,
    generated_at TEXT NOT NULL
);
