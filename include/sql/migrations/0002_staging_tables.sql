-- 0002: one staging table per entity of the registry, with the columns of the shipped
-- mapping (include/mappings/connectwise.yaml). Columns a custom mapping adds are created by
-- schema evolution at load time (add-only, never dropped or retyped).
--
-- Every table: id (the ConnectWise id), the mapped columns, raw (the record as ConnectWise
-- returned it), record_hash (change detection), last_updated (_info.lastUpdated),
-- mapping_version (the mapping the row was mapped with), run_id, first_seen_at, loaded_at,
-- and deleted_at (set when the record disappeared from ConnectWise; soft delete).

-- Company types: GET company/companies/types
CREATE TABLE stg_company_types (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT,
    is_default BOOLEAN,
    is_vendor BOOLEAN,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_company_types_last_updated ON stg_company_types (last_updated);

-- Company statuses: GET company/companies/statuses
CREATE TABLE stg_company_statuses (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT,
    is_default BOOLEAN,
    is_inactive BOOLEAN,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_company_statuses_last_updated ON stg_company_statuses (last_updated);

-- Product categories: GET procurement/categories
CREATE TABLE stg_categories (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT,
    is_inactive BOOLEAN,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_categories_last_updated ON stg_categories (last_updated);

-- Product subcategories: GET procurement/subcategories
CREATE TABLE stg_subcategories (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT,
    category_id BIGINT,
    is_inactive BOOLEAN,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_subcategories_last_updated ON stg_subcategories (last_updated);

-- Contacts: GET company/contacts
CREATE TABLE stg_contacts (
    id BIGINT NOT NULL PRIMARY KEY,
    first_name TEXT,
    last_name TEXT,
    title TEXT,
    company_id BIGINT,
    company_identifier TEXT,
    email TEXT,
    phone TEXT,
    fax TEXT,
    is_inactive BOOLEAN,
    is_default_contact BOOLEAN,
    contact_types {{JSON}},
    custom_fields {{JSON}},
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_contacts_last_updated ON stg_contacts (last_updated);

-- Companies: GET company/companies
CREATE TABLE stg_companies (
    id BIGINT NOT NULL PRIMARY KEY,
    identifier TEXT,
    name TEXT,
    company_type TEXT,
    company_types {{JSON}},
    status_id BIGINT,
    status TEXT,
    market TEXT,
    territory TEXT,
    employees BIGINT,
    phone_number TEXT,
    fax_number TEXT,
    website TEXT,
    address_line1 TEXT,
    city TEXT,
    state TEXT,
    zip TEXT,
    country TEXT,
    is_deleted BOOLEAN,
    date_deleted {{TIMESTAMP}},
    custom_fields {{JSON}},
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_companies_last_updated ON stg_companies (last_updated);

-- Manufacturers: GET procurement/manufacturers
CREATE TABLE stg_manufacturers (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT,
    is_inactive BOOLEAN,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_manufacturers_last_updated ON stg_manufacturers (last_updated);

-- Product types: GET procurement/types
CREATE TABLE stg_product_types (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT,
    type_xref TEXT,
    is_inactive BOOLEAN,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_product_types_last_updated ON stg_product_types (last_updated);

-- Product catalog: GET procurement/catalog
CREATE TABLE stg_catalog_items (
    id BIGINT NOT NULL PRIMARY KEY,
    identifier TEXT,
    description TEXT,
    customer_description TEXT,
    price {{FLOAT}},
    cost {{FLOAT}},
    category_id BIGINT,
    category TEXT,
    subcategory_id BIGINT,
    product_type_id BIGINT,
    product_type TEXT,
    manufacturer_id BIGINT,
    manufacturer_part_number TEXT,
    product_class TEXT,
    product_status TEXT,
    product_terms TEXT,
    is_inactive BOOLEAN,
    is_taxable BOOLEAN,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_catalog_items_last_updated ON stg_catalog_items (last_updated);

-- Members: GET system/members
CREATE TABLE stg_members (
    id BIGINT NOT NULL PRIMARY KEY,
    identifier TEXT,
    first_name TEXT,
    last_name TEXT,
    email TEXT,
    license_class TEXT,
    is_inactive BOOLEAN,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_members_last_updated ON stg_members (last_updated);

-- Opportunity statuses: GET sales/opportunities/statuses
CREATE TABLE stg_opportunity_statuses (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT,
    is_won BOOLEAN,
    is_lost BOOLEAN,
    is_closed BOOLEAN,
    is_default BOOLEAN,
    is_inactive BOOLEAN,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_opportunity_statuses_last_updated ON stg_opportunity_statuses (last_updated);

-- Sales stages: GET sales/stages
CREATE TABLE stg_sales_stages (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT,
    sequence_number BIGINT,
    probability TEXT,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_sales_stages_last_updated ON stg_sales_stages (last_updated);

-- Opportunities: GET sales/opportunities
CREATE TABLE stg_opportunities (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT,
    company_id BIGINT,
    contact_id BIGINT,
    status_id BIGINT,
    status TEXT,
    opportunity_status TEXT,
    stage_id BIGINT,
    stage TEXT,
    primary_sales_rep TEXT,
    expected_close_date {{TIMESTAMP}},
    probability TEXT,
    source TEXT,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_opportunities_last_updated ON stg_opportunities (last_updated);

-- Agreements: GET finance/agreements
CREATE TABLE stg_agreements (
    id BIGINT NOT NULL PRIMARY KEY,
    name TEXT,
    agreement_type TEXT,
    company_id BIGINT,
    contact_id BIGINT,
    agreement_status TEXT,
    start_date {{TIMESTAMP}},
    end_date {{TIMESTAMP}},
    bill_amount {{FLOAT}},
    is_cancelled BOOLEAN,
    raw {{JSON}} NOT NULL,
    record_hash TEXT NOT NULL,
    last_updated {{TIMESTAMP}},
    mapping_version TEXT NOT NULL,
    run_id TEXT,
    first_seen_at {{TIMESTAMP}} NOT NULL,
    loaded_at {{TIMESTAMP}} NOT NULL,
    deleted_at {{TIMESTAMP}}
);
CREATE INDEX ix_stg_agreements_last_updated ON stg_agreements (last_updated);
