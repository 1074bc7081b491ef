-- +goose Up
-- Anomalies from before causes were keyed by payment and refunds claimed
-- (00009): their refunds become claims and their causes take the new names,
-- so that a disagreement already told and refunded is not opened, told and
-- refunded a second time.
INSERT INTO anomaly_refunds (anomaly_id, payment_id, amount, claimed_at, stripe_refund_id, done_at)
SELECT a.id, (r->>'payment_id')::bigint, (r->>'amount')::bigint, coalesce(a.closed_at, a.updated_at),
    a.stripe_refund_id, coalesce(a.closed_at, a.updated_at)
FROM anomalies a CROSS JOIN jsonb_array_elements(a.refunds) r
WHERE a.stripe_refund_id IS NOT NULL AND (r->>'amount')::bigint > 0
    AND EXISTS (SELECT 1 FROM payments p WHERE p.id = (r->>'payment_id')::bigint)
ON CONFLICT DO NOTHING;
UPDATE anomalies SET refunding_at = coalesce(closed_at, updated_at)
WHERE stripe_refund_id IS NOT NULL AND refunding_at IS NULL;

-- Carnet's past refunds were written into the row that Stripe's report of
-- the charge ('refund:<charge>') also updates. Each claim gets its own
-- remedy row, and that row becomes what Stripe reports, so that a refund
-- someone else makes later on the same charge is seen as theirs.
INSERT INTO payments (coach_id, pack_id, kind, status, amount, currency, stripe_charge_id,
    stripe_payment_intent_id, stripe_object_id, occurred_at)
SELECT p.coach_id, p.pack_id, 'refund', 'remedy', c.amount, p.currency, old.stripe_charge_id,
    p.stripe_payment_intent_id, 'remedy:anomaly-' || c.anomaly_id || '-payment-' || c.payment_id, c.claimed_at
FROM anomaly_refunds c JOIN payments p ON p.id = c.payment_id
JOIN payments old ON old.kind = 'refund' AND old.status = 'remedy' AND old.stripe_object_id LIKE 'refund:%'
    AND (old.stripe_charge_id = p.stripe_charge_id OR old.stripe_payment_intent_id = p.stripe_payment_intent_id)
ON CONFLICT (stripe_object_id) DO NOTHING;
UPDATE payments old SET status = CASE WHEN old.amount >= coalesce((SELECT max(c.amount) FROM payments c
        WHERE c.kind = 'charge' AND c.status = 'succeeded' AND (c.stripe_charge_id = old.stripe_charge_id
            OR c.stripe_payment_intent_id = old.stripe_payment_intent_id)), old.amount + 1)
    THEN 'refunded' ELSE 'partially_refunded' END
WHERE old.kind = 'refund' AND old.status = 'remedy' AND old.stripe_object_id LIKE 'refund:%'
    AND EXISTS (SELECT 1 FROM payments m WHERE m.kind = 'refund' AND m.status = 'remedy'
        AND m.stripe_object_id LIKE 'remedy:%' AND m.stripe_charge_id = old.stripe_charge_id);

UPDATE anomalies a SET cause_key = n.cause
FROM (SELECT id, CASE
        WHEN cause_key LIKE 'amount:installment:%' THEN 'amount:payment:' || (evidence->'payment'->>'payment_id')
        WHEN cause_key LIKE 'duplicate:installment:%' THEN 'duplicate:payment:' || (evidence->'second'->>'payment_id')
        WHEN cause_key LIKE 'at_once:pack:%' THEN 'at_once:payment:' ||
            (SELECT min((r->>'payment_id')::bigint) FROM jsonb_array_elements(refunds) r)
        END AS cause
    FROM anomalies) n
WHERE a.id = n.id AND n.cause IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM anomalies b WHERE b.cause_key = n.cause);

-- +goose Down
-- The old names and the claims they imply stay: the previous release reads
-- neither.
SELECT 1;
