-- 0003: v_sync_freshness — per entity: last successful sync, last full sync, watermark,
-- live and soft-deleted rows, open quarantine, and the latest run's status and error.
-- Operators read it to see what is stale; see README "Freshness".
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
