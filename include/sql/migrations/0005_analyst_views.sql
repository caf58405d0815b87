-- 0005: views for analysts (documented in docs/analysts.md). Soft-deleted rows are left out.

-- Contacts with their company and its resolved type (the company-type priority applied).
CREATE VIEW v_contacts AS
SELECT
    c.id AS contact_id,
    c.first_name,
    c.last_name,
    c.title,
    c.email,
    c.phone,
    c.is_inactive,
    c.company_id,
    co.identifier AS company_identifier,
    co.name AS company_name,
    co.company_type,
    co.status AS company_status,
    co.market AS company_market,
    co.territory AS company_territory,
    co.is_deleted AS company_is_deleted,
    c.last_updated,
    c.mapping_version
FROM stg_contacts c
LEFT JOIN stg_companies co ON co.id = c.company_id AND co.deleted_at IS NULL
WHERE c.deleted_at IS NULL;

-- Active catalog items with category, subcategory, manufacturer and product type names.
CREATE VIEW v_active_catalog AS
SELECT
    i.id AS catalog_item_id,
    i.identifier,
    i.description,
    i.price,
    i.cost,
    i.price - i.cost AS margin,
    i.product_status,
    i.product_terms,
    i.category_id,
    cat.name AS category_name,
    i.category AS category_label,
    i.subcategory_id,
    sub.name AS subcategory_name,
    i.manufacturer_id,
    m.name AS manufacturer_name,
    i.product_type_id,
    pt.name AS product_type_name,
    i.last_updated
FROM stg_catalog_items i
LEFT JOIN stg_categories cat ON cat.id = i.category_id
LEFT JOIN stg_subcategories sub ON sub.id = i.subcategory_id
LEFT JOIN stg_manufacturers m ON m.id = i.manufacturer_id
LEFT JOIN stg_product_types pt ON pt.id = i.product_type_id
WHERE i.deleted_at IS NULL AND (i.is_inactive IS NULL OR i.is_inactive = FALSE);

-- The open pipeline (opportunity_status Open via the status map) by stage and status.
CREATE VIEW v_open_pipeline AS
SELECT
    o.stage,
    o.status,
    COUNT(*) AS opportunities,
    COUNT(DISTINCT o.company_id) AS companies,
    MIN(o.expected_close_date) AS first_expected_close,
    MAX(o.expected_close_date) AS last_expected_close
FROM stg_opportunities o
WHERE o.deleted_at IS NULL AND o.opportunity_status = 'Open'
GROUP BY o.stage, o.status;

-- Agreements with their company.
CREATE VIEW v_agreements AS
SELECT
    a.id AS agreement_id,
    a.name,
    a.agreement_type,
    a.agreement_status,
    a.start_date,
    a.end_date,
    a.bill_amount,
    a.is_cancelled,
    a.company_id,
    co.identifier AS company_identifier,
    co.name AS company_name,
    a.contact_id
FROM stg_agreements a
LEFT JOIN stg_companies co ON co.id = a.company_id AND co.deleted_at IS NULL
WHERE a.deleted_at IS NULL;
