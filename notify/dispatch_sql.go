package notify

import (
	"context"
	"fmt"
)

// claim takes the next due message and commits the claim before anything
// is sent: a crash after this point leaves a claim that lapses. A message
// never tried is due at once, whatever the clocks of the database and of
// this process say, unless it is held (not_before: an anomaly's opening
// message waits for its burst to settle, so it states the final facts).
func (d *Dispatcher) claim(ctx context.Context) (claimed, bool, error) {
	now := d.now()
	var rows []claimed
	err := d.DB.SelectContext(ctx, &rows, `UPDATE notifications n SET claimed_until = $2
		FROM (SELECT id FROM notifications
			WHERE status = 'pending' AND (attempts = 0 OR next_attempt_at <= $1) AND (claimed_until IS NULL OR claimed_until < $1)
				AND (not_before IS NULL OR not_before <= $1)
			ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED) due
		WHERE n.id = due.id
		RETURNING n.id, n.cause_key, n.template, n.locale, n.recipient, n.data, n.attempts, n.claimed_until,
			coalesce((SELECT name FROM coaches WHERE id = n.coach_id), '') AS coach_name,
			coalesce((SELECT email FROM coaches WHERE id = n.coach_id), '') AS coach_email`,
		now, now.Add(ClaimFor))
	if err != nil || len(rows) == 0 {
		return claimed{}, false, err
	}
	return rows[0], true, nil
}

// finish records the outcome of a message this dispatcher still holds.
func (d *Dispatcher) finish(ctx context.Context, m claimed, status, subject, lastErr string) error {
	now := d.now()
	res, err := d.DB.ExecContext(ctx, `UPDATE notifications SET status = $3, subject = $4,
		last_error = CASE WHEN $5 = '' THEN last_error ELSE $5 END,
		attempts = attempts + CASE WHEN $3 = 'sent' THEN 1 ELSE 0 END,
		sent_at = CASE WHEN $3 = 'sent' THEN $6::timestamptz END, claimed_until = NULL
		WHERE id = $1 AND claimed_until = $2 AND status = 'pending'`,
		m.ID, m.ClaimedUntil, status, subject, lastErr, now)
	if err != nil {
		return fmt.Errorf("notify: record %s: %w", m.Cause, err)
	}
	d.recorded(ctx, res, m, status, lastErr)
	return nil
}

// retry records a failed send: tried again after a backoff, failed for good
// after MaxAttempts.
func (d *Dispatcher) retry(ctx context.Context, m claimed, subject string, sendErr error) error {
	attempts := m.Attempts + 1
	status := "pending"
	if attempts >= MaxAttempts {
		status = "failed"
	}
	msg := sendErr.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	res, err := d.DB.ExecContext(ctx, `UPDATE notifications SET status = $3, subject = $4, attempts = $5,
		last_error = $6, next_attempt_at = $7, claimed_until = NULL
		WHERE id = $1 AND claimed_until = $2 AND status = 'pending'`,
		m.ID, m.ClaimedUntil, status, subject, attempts, msg, d.now().Add(Backoff(attempts)))
	if err != nil {
		return fmt.Errorf("notify: record %s: %w", m.Cause, err)
	}
	d.recorded(ctx, res, m, status, msg)
	return nil
}
