-- 0001: bookkeeping tables. Tokens {{JSON}}, {{TIMESTAMP}} and {{FLOAT}} become JSONB,
-- TIMESTAMP WITH TIME ZONE and DOUBLE PRECISION on PostgreSQL, and TEXT/TEXT/REAL on SQLite
-- (where timestamps are ISO-8601 UTC strings such as 2026-01-31T12:00:00Z).

-- Run history: one row per run and entity, with its figures.
CREATE TABLE meta_sync_runs (
    run_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    mode TEXT NOT NULL,                -- full, incremental, remap, callback
    status TEXT NOT NULL,              -- running, success, failed
    attempt INTEGER NOT NULL DEFAULT 1,
    started_at {{TIMESTAMP}} NOT NULL,
    finished_at {{TIMESTAMP}},
    duration_seconds {{FLOAT}},
    fetched BIGINT NOT NULL DEFAULT 0,
    filtered BIGINT NOT NULL DEFAULT 0,  -- left out by the contact filter
    inserted BIGINT NOT NULL DEFAULT 0,
    updated BIGINT NOT NULL DEFAULT 0,
    unchanged BIGINT NOT NULL DEFAULT 0,
    quarantined BIGINT NOT NULL DEFAULT 0,
    deleted BIGINT NOT NULL DEFAULT 0,
    pages BIGINT NOT NULL DEFAULT 0,
    http_requests BIGINT NOT NULL DEFAULT 0,
    retries BIGINT NOT NULL DEFAULT 0,
    throttled BIGINT NOT NULL DEFAULT 0,
    records_per_second {{FLOAT}},
    watermark_from {{TIMESTAMP}},
    watermark_to {{TIMESTAMP}},
    mapping_version TEXT,
    error TEXT,
    PRIMARY KEY (run_id, entity)
);
CREATE INDEX ix_meta_sync_runs_entity_started ON meta_sync_runs (entity, started_at);

-- Incremental state per entity. The watermark only moves after the rows it covers committed.
CREATE TABLE meta_watermarks (
    entity TEXT NOT NULL PRIMARY KEY,
    watermark {{TIMESTAMP}},
    last_full_sync_at {{TIMESTAMP}},
    last_success_at {{TIMESTAMP}},
    last_run_id TEXT,
    updated_at {{TIMESTAMP}} NOT NULL
);

-- Records that failed mapping or a quality check: never loaded, never silently dropped.
-- One open row per record (record_key = id, or hash: for records without a usable id).
CREATE TABLE meta_quarantine (
    entity TEXT NOT NULL,
    record_key TEXT NOT NULL,
    record_id BIGINT,
    run_id TEXT NOT NULL,
    check_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    payload {{JSON}} NOT NULL,
    quarantined_at {{TIMESTAMP}} NOT NULL,
    resolved_at {{TIMESTAMP}},
    PRIMARY KEY (entity, record_key)
);

-- Every mapping version rows were stamped with, and its content.
CREATE TABLE meta_mapping_versions (
    version TEXT NOT NULL PRIMARY KEY,
    label TEXT,
    source_path TEXT,
    content {{JSON}} NOT NULL,
    first_used_at {{TIMESTAMP}} NOT NULL
);

-- Cross-table reference findings of the initial sync's integrity check.
CREATE TABLE meta_integrity (
    run_id TEXT NOT NULL,
    entity TEXT NOT NULL,
    column_name TEXT NOT NULL,
    references_entity TEXT NOT NULL,
    orphans BIGINT NOT NULL,
    sample_ids TEXT,
    checked_at {{TIMESTAMP}} NOT NULL,
    PRIMARY KEY (run_id, entity, column_name)
);
