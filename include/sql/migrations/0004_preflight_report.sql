-- 0004: meta_preflight — the checklist of each preflight run: connection checks, the 8
-- security-role modules and the 23 Table Setup entities, with the fix for each failure.
CREATE TABLE meta_preflight (
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,           -- connection, module, table
    name TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    ok BOOLEAN NOT NULL,
    required BOOLEAN NOT NULL,    -- a failure the sync cannot work around
    detail TEXT NOT NULL,
    fix TEXT,
    checked_at {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (run_id, kind, name)
);
