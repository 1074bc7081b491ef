-- +goose Up
-- The outbox is delivered by River: each message has a job, inserted in the
-- transaction that writes it, and job_id names it. NULL: a message written
-- by the previous release (its own dispatcher sends those), which the
-- periodic notify.adopt job gives a job. claimed_until and next_attempt_at
-- are the previous release's; this one reads claimed_until only, to leave a
-- message that release is sending alone.
ALTER TABLE notifications ADD COLUMN job_id bigint;
-- The adopter's query: pending messages without a job, few once adopted
-- (it also re-queues those whose job River discarded: few, among the pending).
CREATE INDEX notifications_unqueued_idx ON notifications (id) WHERE status = 'pending' AND job_id IS NULL;

-- +goose Down
DROP INDEX notifications_unqueued_idx;
ALTER TABLE notifications DROP COLUMN job_id;
