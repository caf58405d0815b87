-- 0010: meta_site_codebase — the codebase each ConnectWise site was last discovered at, so the
-- tasks of a run (each its own process) ask /login/companyinfo once, not once per task.
CREATE TABLE meta_site_codebase (
    site_key TEXT PRIMARY KEY,    -- scheme://host/company_id
    codebase TEXT NOT NULL,       -- e.g. v2025_1/
    discovered_at {{TIMESTAMP}} NOT NULL
);
