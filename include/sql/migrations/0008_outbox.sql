-- 0008: write-back. Other systems and analysts insert rows into the outbox tables; the
-- connectwise_push DAG carries them to ConnectWise (docs/write-back.md). Tokens: {{AUTO_ID}} is an
-- auto-numbered primary key, {{NOW}} the current UTC time (ISO-8601 text on SQLite).
--
-- Every outbox row has the same bookkeeping columns:
--   status      pending (to push), sending (in flight: the push started and its outcome is not
--               known yet; the next run looks the record up before writing again), sent,
--               failed (last_error says why; set status back to 'pending' to retry), skipped
--               (not pushed on purpose; last_error says why)
--   attempts    pushes started for the row
--   push_key    the idempotency key, set before the first write; ConnectWise records carry it
--   last_error  the reason of the last failure or skip (ConnectWise's own message on a 400)
--   created_at, updated_at, sent_at

-- Contacts to create or update (matched on contact_id, else on email within the company).
CREATE TABLE outbox_contacts (
    id {{AUTO_ID}},
    source_key TEXT UNIQUE,                -- the sending system's own id (optional)
    contact_id BIGINT,                     -- ConnectWise contact id: given, or set once pushed
    company_id BIGINT,                     -- ConnectWise company id ...
    company_identifier TEXT,               -- ... or its identifier
    first_name TEXT,
    last_name TEXT,
    title TEXT,
    email TEXT,
    phone TEXT,
    fax TEXT,
    fields {{JSON}},                       -- more columns of the contacts field map
    company_fields {{JSON}},               -- columns of the companies field map to set
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    push_key TEXT,
    last_error TEXT,
    created_at {{TIMESTAMP}} NOT NULL DEFAULT {{NOW}},
    updated_at {{TIMESTAMP}} NOT NULL DEFAULT {{NOW}},
    sent_at {{TIMESTAMP}}
);
CREATE INDEX ix_outbox_contacts_status ON outbox_contacts (status, id);

-- To-dos, pushed as sales activities assigned to push.activity_member. Edit a row (and set
-- status back to 'pending') to update its activity; set is_closed to close it.
CREATE TABLE outbox_todos (
    id {{AUTO_ID}},
    source_key TEXT UNIQUE,
    contact_id BIGINT,                     -- ConnectWise contact id ...
    contact_email TEXT,                    -- ... or the email of a staged contact
    subject TEXT NOT NULL,                 -- the activity's name (at most 100 characters)
    notes TEXT,
    due_at {{TIMESTAMP}},                  -- the activity's dateStart
    is_closed BOOLEAN NOT NULL DEFAULT FALSE,
    activity_id BIGINT,                    -- set once pushed
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    push_key TEXT,
    last_error TEXT,
    created_at {{TIMESTAMP}} NOT NULL DEFAULT {{NOW}},
    updated_at {{TIMESTAMP}} NOT NULL DEFAULT {{NOW}},
    sent_at {{TIMESTAMP}}
);
CREATE INDEX ix_outbox_todos_status ON outbox_todos (status, id);

-- Quotes: each becomes an opportunity with forecast lines; its quote_status moves the
-- opportunity through push.quote_status_map; an approved quote also becomes an agreement (or
-- additions to one) per push.agreement_mode.
CREATE TABLE outbox_quotes (
    id {{AUTO_ID}},
    source_key TEXT UNIQUE,
    name TEXT NOT NULL,                    -- the opportunity's name (at most 100 characters)
    company_id BIGINT NOT NULL,            -- ConnectWise company id
    contact_id BIGINT NOT NULL,            -- ConnectWise contact id (of that company)
    quote_status TEXT NOT NULL DEFAULT 'draft'
        CHECK (quote_status IN ('draft', 'sent', 'approved', 'declined')),
    agreement_type TEXT,                   -- a key of push.agreement_type_map (else its default)
    expected_close_date {{TIMESTAMP}},
    notes TEXT,
    opportunity_id BIGINT,                 -- set once the opportunity exists
    agreement_id BIGINT,                   -- the agreement created or added to
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    push_key TEXT,
    last_error TEXT,
    created_at {{TIMESTAMP}} NOT NULL DEFAULT {{NOW}},
    updated_at {{TIMESTAMP}} NOT NULL DEFAULT {{NOW}},
    sent_at {{TIMESTAMP}}
);
CREATE INDEX ix_outbox_quotes_status ON outbox_quotes (status, id);

-- The lines of a quote: forecast items of its opportunity, and agreement additions once the
-- quote is approved. Each line keeps the ConnectWise ids it created.
CREATE TABLE outbox_quote_lines (
    quote_id BIGINT NOT NULL REFERENCES outbox_quotes (id),
    line_number INTEGER NOT NULL,
    product_id BIGINT,                     -- ConnectWise catalog item id ...
    product_identifier TEXT,               -- ... or its identifier
    description TEXT,
    quantity {{FLOAT}} NOT NULL DEFAULT 1,
    unit_price {{FLOAT}} NOT NULL,
    unit_cost {{FLOAT}},
    forecast_item_id BIGINT,
    addition_id BIGINT,
    PRIMARY KEY (quote_id, line_number)
);

-- Stage and status changes of existing opportunities, in the labels of sales_stage_map and
-- opportunity_status_map (unmapped stages are skipped and reported, never written).
CREATE TABLE outbox_opportunity_stages (
    id {{AUTO_ID}},
    opportunity_id BIGINT NOT NULL,        -- ConnectWise opportunity id
    stage TEXT,                            -- a pipeline label (a value of sales_stage_map)
    opportunity_status TEXT,               -- Open, Won or Lost (opportunity_status_map)
    status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    push_key TEXT,
    last_error TEXT,
    created_at {{TIMESTAMP}} NOT NULL DEFAULT {{NOW}},
    updated_at {{TIMESTAMP}} NOT NULL DEFAULT {{NOW}},
    sent_at {{TIMESTAMP}}
);
CREATE INDEX ix_outbox_opportunity_stages_status ON outbox_opportunity_stages (status, id);

-- Run history of the push: one row per run and flow.
CREATE TABLE meta_push_runs (
    run_id TEXT NOT NULL,
    flow TEXT NOT NULL,                    -- contacts, todos, quotes, stages
    status TEXT NOT NULL,                  -- running, success, failed
    started_at {{TIMESTAMP}} NOT NULL,
    finished_at {{TIMESTAMP}},
    duration_seconds {{FLOAT}},
    rows_claimed BIGINT NOT NULL DEFAULT 0,
    sent BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    in_flight BIGINT NOT NULL DEFAULT 0,   -- outcome unknown (lost response), retried next run
    created BIGINT NOT NULL DEFAULT 0,     -- ConnectWise records created
    updated BIGINT NOT NULL DEFAULT 0,     -- ConnectWise records updated
    http_requests BIGINT NOT NULL DEFAULT 0,
    retries BIGINT NOT NULL DEFAULT 0,
    report TEXT,                           -- e.g. the unmapped stages of the run
    error TEXT,
    PRIMARY KEY (run_id, flow)
);
