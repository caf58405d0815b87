-- The push's run history counts the requests ConnectWise throttled (429), as the sync's does.
ALTER TABLE meta_push_runs ADD COLUMN throttled BIGINT NOT NULL DEFAULT 0;
