package reconcile

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/packs"
)

// AnomalyFilter picks a coach's anomalies: by state, kind and client, newest
// first, before the id After (0: from the newest).
type AnomalyFilter struct {
	State, Kind string
	ClientID    int64
	After       int64
	Limit       int
}

// List returns a coach's anomalies, newest first; Limit+1 rows at most, so
// the caller can tell whether there are more.
func (r *Reconciler) List(ctx context.Context, coachID int64, f AnomalyFilter) ([]Anomaly, error) {
	if !anomalyStates[f.State] {
		return nil, errs.Field("state", "must be open, resolved or dismissed")
	}
	after := f.After
	if after == 0 {
		after = 1<<63 - 1
	}
	rows := []Anomaly{}
	err := db.Q(ctx, r.DB).SelectContext(ctx, &rows, `SELECT `+anomalyCols+` FROM anomalies WHERE coach_id = $1 AND id < $2
		AND ($3 = '' OR state = $3) AND ($4 = '' OR kind = $4) AND ($5 = 0 OR client_id = $5)
		ORDER BY id DESC LIMIT $6`, coachID, after, f.State, f.Kind, f.ClientID, f.Limit+1)
	return rows, err
}

// Detail is an anomaly with what the coach needs to answer it: for a
// dispute, the charter the client accepted and the pack's attendance record;
// and when Carnet will refund the excess by itself, if it will.
type Detail struct {
	Anomaly
	Charter    any               `json:"accepted_charter,omitempty"`
	Agreement  *packs.Acceptance `json:"signed_agreement,omitempty"` // for a dispute: what the client signed
	Attendance any               `json:"attendance,omitempty"`
	AutoRefund *time.Time        `json:"auto_refund_at,omitempty"`
}

// Get returns one of a coach's anomalies with its details.
func (r *Reconciler) Get(ctx context.Context, coachID, id int64) (Detail, error) {
	q := db.Q(ctx, r.DB)
	a, err := r.get(ctx, q, coachID, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Anomaly: a}
	if a.PackID != nil && strings.HasPrefix(a.Cause, "dispute:") {
		if d.Charter, d.Attendance, err = disputeEvidence(ctx, r.DB, coachID, *a.PackID); err != nil {
			return d, err
		}
		// A pack bought before agreements existed, or by the coach's own checkout, has none.
		signed, err := packs.SignedAgreement(ctx, q, coachID, 0, *a.PackID)
		switch {
		case err == nil:
			d.Agreement = &signed
		case errs.CodeOf(err) != errs.NotFound:
			return d, err
		}
	}
	if a.State == "open" && a.RefundingAt == nil {
		// The automatic refund is a River job scheduled when the anomaly opened.
		var at []time.Time
		if err := q.SelectContext(ctx, &at, `SELECT scheduled_at FROM river_job WHERE kind = $1
			AND args->>'anomaly_id' = $2 AND state IN ('scheduled', 'available', 'retryable', 'pending')
			ORDER BY scheduled_at LIMIT 1`, RefundArgs{}.Kind(), a.ID); err != nil {
			return d, err
		}
		if len(at) == 1 {
			d.AutoRefund = &at[0]
		}
	}
	return d, nil
}

// Decide is the coach closing an open anomaly (resolved or dismissed), with
// a note saying why; a pending automatic refund then stops.
func (r *Reconciler) Decide(ctx context.Context, coachID, id int64, state, note string) (Anomaly, error) {
	if state != "resolved" && state != "dismissed" {
		return Anomaly{}, errs.Field("state", "must be resolved or dismissed")
	}
	if note = strings.TrimSpace(note); note == "" || len(note) > 500 {
		return Anomaly{}, errs.Field("note", "say why (at most 500 characters)")
	}
	err := db.InTx(ctx, r.DB, func(tx *sqlx.Tx) error {
		a, err := r.get(ctx, tx, coachID, id)
		if err != nil {
			return err
		}
		if a.State != "open" {
			return errs.New(errs.Conflict, "anomaly %d is already %s", id, a.State)
		}
		return r.close(ctx, tx, a, state, "coach", note, r.Now().UTC(), true)
	})
	if err != nil {
		return Anomaly{}, err
	}
	// Within an API request's transaction, the answer reads its own change.
	return r.get(ctx, db.Q(ctx, r.DB), coachID, id)
}
