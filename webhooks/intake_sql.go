package webhooks

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/stripe/stripe-go/v76"

	"carnet/internal/db"
	"carnet/internal/failpoint"
)

// ingest stores an event once and applies it; Receive and the sweep share it.
// An event whose content Carnet cannot apply (a negative amount, text
// PostgreSQL cannot hold, no type) is stored with the reason and
// acknowledged: Stripe's retries would bring the same content for three
// days, and the raw payload stays for a later replay.
func (in *Intake) ingest(ctx context.Context, payload []byte, ev *stripe.Event) (Result, error) {
	id := storedEventID(ev.ID, payload)
	res := Result{Received: true, EventID: id}
	err := db.InTx(ctx, in.DB, func(tx *sqlx.Tx) error {
		r, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (id, type, api_version, payload) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO NOTHING`, id, cleanText(string(ev.Type)), cleanText(ev.APIVersion), payload)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n == 0 {
			res.Duplicate = true
			return nil
		}
		var reason error
		if ev.ID == "" || ev.Type == "" || ev.Data == nil {
			reason = errors.New("the event has no id, type or data")
		} else if _, err := tx.ExecContext(ctx, `SAVEPOINT apply`); err != nil {
			return err
		} else if err := in.applySafely(ctx, tx, ev); err != nil {
			if !contentError(err) {
				return fmt.Errorf("apply %s %s: %w", ev.Type, id, err)
			}
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT apply`); err != nil {
				return err
			}
			reason = err
		}
		if reason != nil {
			in.Log.ErrorContext(ctx, "webhook stored, not applied", "event_id", id, "type", cleanText(string(ev.Type)), "err", reason)
			res.Applied = new(bool)
			_, err = tx.ExecContext(ctx, `UPDATE webhook_events SET last_error = $2 WHERE id = $1`, id, cleanText(reason.Error()))
			return err
		}
		failpoint.HitFor(failpoint.MidWebhook, ev.ID)
		_, err = tx.ExecContext(ctx, `UPDATE webhook_events SET processed_at = $2 WHERE id = $1`, id, in.Now().UTC())
		return err
	})
	return res, err
}
