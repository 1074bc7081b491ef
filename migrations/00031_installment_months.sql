-- +goose Up
-- Installment due dates were counted with Go's AddDate, which overflows
-- short months (31 January + 1 month = 3 March) while Stripe debits on the
-- month's last day (28 February). Every plan's dates are counted again from
-- its first installment as Stripe counts them from the billing-cycle anchor:
-- in UTC, by whole months from the anchor, the day clamped to the month's
-- end (PostgreSQL's timestamp + interval clamps the same way). Only dates
-- change; the old binary reads and writes these rows as before.
UPDATE installments i
SET due_at = ((f.due_at AT TIME ZONE 'UTC') + (i.seq - 1) * interval '1 month') AT TIME ZONE 'UTC'
FROM installments f
WHERE f.pack_id = i.pack_id AND f.seq = 1 AND i.seq > 1
    AND i.due_at <> ((f.due_at AT TIME ZONE 'UTC') + (i.seq - 1) * interval '1 month') AT TIME ZONE 'UTC';

-- +goose Down
-- The dates stay: the old ones were wrong.
SELECT 1;
