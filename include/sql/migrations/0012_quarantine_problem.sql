-- What the Issues page lists quarantined records by: the problem, which is the reason without
-- the record's own values (an id, an e-mail address; an unmapped ConnectWise value stays in it),
-- and the value that failed. Rows quarantined before this migration have neither; they are
-- listed by their reason.
ALTER TABLE meta_quarantine ADD COLUMN problem TEXT;
ALTER TABLE meta_quarantine ADD COLUMN offending_value TEXT;
