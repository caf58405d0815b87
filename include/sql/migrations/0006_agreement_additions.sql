-- 0006: agreement additions — a child entity read per agreement
-- (finance/agreements/{id}/additions) — and the views that include them.

-- Agreement additions: GET finance/agreements/{id}/additions
CREATE TABLE stg_agreement_additions (
    id BIGINT NOT NULL PRIMARY KEY,
    agreement_id BIGINT,
    product_id BIGINT,
    product_identifier TEXT,
    description TEXT,
    quantity {{FLOAT}},
    unit_price {{FLOAT}},
    unit_cost {{FLOAT}},
    bill_customer TEXT,
    effective_date {{TIMESTAMP}},
    cancelled_date {{TIMESTAMP}},
    agreement_status TEXT,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}});
CREATE INDEX ix_stg_agreement_additions_last_updated ON stg_agreement_additions (last_updated);
CREATE INDEX ix_stg_agreement_additions_agreement ON stg_agreement_additions (agreement_id);

-- v_sync_freshness gains the new table.
DROP VIEW v_sync_freshness;
CREATE VIEW v_sync_freshness AS
WITH row_counts AS (
    SELECT 'company_types' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_company_types
    UNION ALL
    SELECT 'company_statuses' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_company_statuses
    UNION ALL
    SELECT 'categories' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_categories
    UNION ALL
    SELECT 'subcategories' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_subcategories
    UNION ALL
    SELECT 'contacts' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_contacts
    UNION ALL
    SELECT 'companies' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_companies
    UNION ALL
    SELECT 'manufacturers' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_manufacturers
    UNION ALL
    SELECT 'product_types' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_product_types
    UNION ALL
    SELECT 'catalog_items' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_catalog_items
    UNION ALL
    SELECT 'members' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_members
    UNION ALL
    SELECT 'opportunity_statuses' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_opportunity_statuses
    UNION ALL
    SELECT 'sales_stages' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_sales_stages
    UNION ALL
    SELECT 'opportunities' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_opportunities
    UNION ALL
    SELECT 'agreements' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_agreements
    UNION ALL
    SELECT 'agreement_additions' AS entity, COUNT(*) AS total_rows,
           SUM(CASE WHEN deleted_at IS NOT NULL THEN 1 ELSE 0 END) AS soft_deleted
    FROM stg_agreement_additions
),
open_quarantine AS (
    SELECT entity, COUNT(*) AS quarantined
    FROM meta_quarantine
    WHERE resolved_at IS NULL
    GROUP BY entity
),
latest_run AS (
    SELECT r.entity, r.run_id, r.mode, r.status, r.error, r.started_at
    FROM meta_sync_runs r
    WHERE r.started_at = (
        SELECT MAX(x.started_at) FROM meta_sync_runs x WHERE x.entity = r.entity
    )
)
SELECT
    c.entity,
    w.last_success_at,
    w.last_full_sync_at,
    w.watermark,
    c.total_rows - COALESCE(c.soft_deleted, 0) AS row_count,
    COALESCE(c.soft_deleted, 0) AS soft_deleted,
    COALESCE(q.quarantined, 0) AS quarantined,
    l.run_id AS last_run_id,
    l.mode AS last_run_mode,
    l.status AS last_run_status,
    CASE WHEN l.status = 'failed' THEN l.error END AS last_error
FROM row_counts c
LEFT JOIN meta_watermarks w ON w.entity = c.entity
LEFT JOIN open_quarantine q ON q.entity = c.entity
LEFT JOIN latest_run l ON l.entity = c.entity;

-- Agreements with their additions: one row per live addition, with the agreement, its company
-- and the catalog product.
CREATE VIEW v_agreements_with_additions AS
SELECT
    a.id AS agreement_id,
    a.name AS agreement_name,
    a.agreement_type,
    a.agreement_status,
    co.name AS company_name,
    ad.id AS addition_id,
    ad.product_id,
    ad.product_identifier,
    p.description AS product_description,
    ad.quantity,
    ad.unit_price,
    ad.quantity * ad.unit_price AS extended_price,
    ad.bill_customer,
    ad.effective_date,
    ad.cancelled_date
FROM stg_agreements a
JOIN stg_agreement_additions ad ON ad.agreement_id = a.id AND ad.deleted_at IS NULL
LEFT JOIN stg_companies co ON co.id = a.company_id AND co.deleted_at IS NULL
LEFT JOIN stg_catalog_items p ON p.id = ad.product_id
WHERE a.deleted_at IS NULL;
