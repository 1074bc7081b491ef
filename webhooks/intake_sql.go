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
//
// The event is stored already marked processed, and an event that cannot be
// applied rolls the whole transaction back and is stored again with its
// reason: the common path is then one statement and no savepoint, the
// rare one two transactions.
func (in *Intake) ingest(ctx context.Context, payload []byte, ev *stripe.Event) (Result, error) {
	id := storedEventID(ev.ID, payload)
	res := Result{Received: true, EventID: id}
	var reason error
	if ev.ID == "" || ev.Type == "" || ev.Data == nil {
		reason = errors.New("the event has no id, type or data")
	}
	if reason == nil {
		err := db.InTx(ctx, in.DB, func(tx *sqlx.Tx) error {
			if stored, err := in.store(ctx, tx, id, payload, ev, nil); err != nil || !stored {
				res.Duplicate = !stored
				return err
			}
			if err := in.applySafely(ctx, tx, ev); err != nil {
				if !contentError(err) {
					return fmt.Errorf("apply %s %s: %w", ev.Type, id, err)
				}
				reason = err
				return errNotApplied
			}
			failpoint.HitFor(failpoint.MidWebhook, ev.ID)
			return nil
		})
		if !errors.Is(err, errNotApplied) {
			return res, err
		}
	}
	err := db.InTx(ctx, in.DB, func(tx *sqlx.Tx) error {
		stored, err := in.store(ctx, tx, id, payload, ev, reason)
		res.Duplicate = err == nil && !stored // a copy racing this one stored it meanwhile
		return err
	})
	if err == nil && !res.Duplicate {
		in.Log.ErrorContext(ctx, "webhook stored, not applied", "event_id", id, "type", cleanText(string(ev.Type)), "err", reason)
		res.Applied = new(bool)
	}
	return res, err
}

// errNotApplied rolls back an event's transaction whose content could not be
// applied, to store it with the reason instead.
var errNotApplied = errors.New("not applied")

// store inserts the event unless its id is known (false then): processed
// now, or, with a reason, kept unprocessed with it.
func (in *Intake) store(ctx context.Context, tx *sqlx.Tx, id string, payload []byte, ev *stripe.Event, reason error) (bool, error) {
	processed, lastError := any(in.Now().UTC()), ""
	if reason != nil {
		processed, lastError = nil, cleanText(reason.Error())
	}
	r, err := tx.ExecContext(ctx, `INSERT INTO webhook_events (id, type, api_version, payload, processed_at, last_error)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
		id, cleanText(string(ev.Type)), cleanText(ev.APIVersion), payload, processed, lastError)
	if err != nil {
		return false, err
	}
	n, err := r.RowsAffected()
	return n == 1, err
}
