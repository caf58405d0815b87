-- 0011: an outbox row whose write may or may not have been applied (a 5xx, a lost response, a
-- timeout) stays 'sending' and is tried again after a back-off, looking its record up first
-- (docs/write-back.md). next_attempt_at says when: NULL means at the next run. After
-- push.max_attempts such attempts the row fails; a 4xx fails it at once.
ALTER TABLE outbox_contacts ADD COLUMN next_attempt_at {{TIMESTAMP}};
ALTER TABLE outbox_todos ADD COLUMN next_attempt_at {{TIMESTAMP}};
ALTER TABLE outbox_quotes ADD COLUMN next_attempt_at {{TIMESTAMP}};
ALTER TABLE outbox_opportunity_stages ADD COLUMN next_attempt_at {{TIMESTAMP}};
