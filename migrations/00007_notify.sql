-- +goose Up
-- What the outbox dispatcher needs: when a message is next due (retries back
-- off), until when a dispatcher holds it (a claim that lapses if that process
-- dies, so the message is sent after restart), and the subject it rendered
-- (so kept and sent messages can be shown as they were).
ALTER TABLE notifications
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN claimed_until timestamptz,
    ADD COLUMN subject text NOT NULL DEFAULT '';
-- The dispatcher's query: pending rows by due time. Partial, so it stays as
-- small as the backlog however many messages were sent.
CREATE INDEX notifications_due_idx ON notifications (next_attempt_at) WHERE status = 'pending';
-- A coach's notifications, newest first.
CREATE INDEX notifications_coach_idx ON notifications (coach_id, id);

-- +goose Down
DROP INDEX notifications_coach_idx;
DROP INDEX notifications_due_idx;
ALTER TABLE notifications DROP COLUMN subject, DROP COLUMN claimed_until, DROP COLUMN next_attempt_at;
