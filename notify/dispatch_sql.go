package notify

import (
	"carnet/internal/db"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
)

// record writes the outcome of a message: tried counts an attempt to send
// it (pending: a failed send River tries again).
func (d *Dispatcher) record(ctx context.Context, tx *sqlx.Tx, m outgoing, status, subject, lastErr string, tried bool) error {
	if len(lastErr) > 1000 {
		lastErr = lastErr[:1000]
	}
	if _, err := tx.ExecContext(ctx, `UPDATE notifications SET status = $2, subject = $3,
		last_error = CASE WHEN $4 = '' THEN last_error ELSE $4 END,
		attempts = attempts + CASE WHEN $5 THEN 1 ELSE 0 END,
		sent_at = CASE WHEN $2 = 'sent' THEN $6::timestamptz END
		WHERE id = $1`, m.ID, status, subject, lastErr, tried, d.now()); err != nil {
		return err
	}
	log := d.log()
	outcome := status
	if status == "pending" {
		outcome = "retry"
	}
	if d.Observe != nil {
		d.Observe(outcome)
	}
	switch status {
	case "sent", "kept":
		log.InfoContext(ctx, "notification "+status, "id", m.ID, "cause", m.Cause, "template", m.Template)
	default:
		log.WarnContext(ctx, "notification not sent", "id", m.ID, "cause", m.Cause, "status", outcome,
			"attempts", m.Attempts+1, "err", lastErr)
	}
	return nil
}

// saltOf is the installation's secret for Message-IDs, read once.
func (d *Dispatcher) saltOf(ctx context.Context) ([]byte, error) {
	d.saltMu.Lock()
	defer d.saltMu.Unlock()
	if d.salt == nil {
		salt, err := db.Secret(ctx, d.DB, "notify.message_id", 32)
		if err != nil {
			return nil, fmt.Errorf("notify: message id secret: %w", err)
		}
		d.salt = salt
	}
	return d.salt, nil
}

// Adopt gives a job to every pending message that has none (written by the
// previous release during a rolling deploy), or whose job River gave up on
// without recording an outcome (every attempt failed on the database itself),
// and returns how many it queued.
// Its job waits out a claim that release's dispatcher still holds.
func Adopt(ctx context.Context, d *sqlx.DB) (int, error) { return adopt(ctx, d, adoptBatch) }

func adopt(ctx context.Context, d *sqlx.DB, batch int) (int, error) {
	total := 0
	for {
		// One statement: the messages locked, their jobs inserted and named on them.
		r, err := d.ExecContext(ctx, `WITH due AS (SELECT id, not_before AS hold, nextval('river_job_id_seq') AS job_id
			FROM (SELECT n.id, n.not_before FROM notifications n
				WHERE n.status = 'pending' AND (n.job_id IS NULL OR NOT EXISTS (SELECT 1 FROM river_job j
					WHERE j.id = n.job_id AND j.state <> 'discarded'))
				ORDER BY n.id LIMIT $1 FOR UPDATE OF n SKIP LOCKED) locked),
		queued AS (`+insertSendJobs("due", 2)+`)
		UPDATE notifications n SET job_id = due.job_id FROM due WHERE n.id = due.id`, append([]any{batch}, sendJobArgs()...)...)
		var n int
		if err == nil {
			var affected int64
			affected, err = r.RowsAffected()
			n = int(affected)
		}
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}

// lockPending locks message id while it is still to send (found false once
// it was sent, kept or failed).
func lockPending(ctx context.Context, tx *sqlx.Tx, id int64) (outgoing, bool, error) {
	var m outgoing
	err := tx.GetContext(ctx, &m, `SELECT n.id, n.cause_key, n.template, n.locale, n.recipient, n.data, n.attempts,
		n.not_before, n.claimed_until, coalesce(c.name, '') AS coach_name, coalesce(c.email, '') AS coach_email
		FROM notifications n LEFT JOIN coaches c ON c.id = n.coach_id
		WHERE n.id = $1 AND n.status = 'pending' FOR UPDATE OF n`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	return m, err == nil, err
}
