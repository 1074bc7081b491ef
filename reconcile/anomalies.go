package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"carnet/billing"
	"carnet/internal/errs"
	"carnet/packs"
)

// Reconciler compares every pack's plan with what Stripe did, opens one
// anomaly per cause, tells the coach and the client, and remedies.
type Reconciler struct {
	DB      *sqlx.DB
	Billing *billing.Service
	Now     func() time.Time
	Log     *slog.Logger
}

// An anomaly's states: open until Carnet or the coach closes it, resolved
// (put right) or dismissed (the coach says it is not one).
const (
	StateOpen      = "open"
	StateResolved  = "resolved"
	StateDismissed = "dismissed"
)

// Anomaly is one disagreement between the plan and Stripe, with its evidence.
type Anomaly struct {
	ID          int64           `db:"id" json:"id"`
	CoachID     *int64          `db:"coach_id" json:"-"`
	PackID      *int64          `db:"pack_id" json:"pack_id"`
	ClientID    *int64          `db:"client_id" json:"client_id"`
	Kind        string          `db:"kind" json:"kind"`
	Cause       string          `db:"cause_key" json:"cause"`
	State       string          `db:"state" json:"state"`
	Evidence    json.RawMessage `db:"evidence" json:"evidence"`
	Excess      int64           `db:"excess_amount" json:"excess_amount"`
	Currency    *string         `db:"currency" json:"currency"`
	Refunds     json.RawMessage `db:"refunds" json:"-"`
	RefundID    *string         `db:"stripe_refund_id" json:"stripe_refund_id,omitempty"`
	RefundingAt *time.Time      `db:"refunding_at" json:"refunding_at,omitempty"` // from then on, evidence and plan stay
	ResolvedBy  string          `db:"resolved_by" json:"resolved_by,omitempty"`
	Resolution  string          `db:"resolution" json:"resolution,omitempty"`
	OpenedAt    time.Time       `db:"opened_at" json:"opened_at"`
	ClosedAt    *time.Time      `db:"closed_at" json:"closed_at,omitempty"`
	UpdatedAt   time.Time       `db:"updated_at" json:"updated_at"`
}

// party is who is told about a pack's anomaly.
type party struct {
	CoachID     int64  `db:"coach_id"`
	ClientID    int64  `db:"client_id"`
	CoachEmail  string `db:"coach_email"`
	CoachName   string `db:"coach_name"`
	ClientEmail string `db:"client_email"`
	ClientName  string `db:"client_name"`
	Locale      string `db:"locale"`
	Offer       string `db:"offer"`
	Currency    string `db:"currency"`
	AutoRefund  bool   `db:"auto_refund"`
	CoachLocale string `db:"coach_locale"`
	CoachTZ     string `db:"coach_tz"`
}

// RefundSettle is how long an automatic refund waits after the anomaly
// opens, so that a burst of charges (a whole night's) is refunded as one.
const RefundSettle = 15 * time.Minute

// whatWeDo is what happens next: the excess refunded (or the coach's to
// refund), a declined debit retried by Stripe, nothing more on a plan the
// failure ended, the client asked to pay an installment nobody tried to
// debit, a dispute's evidence to send, or the coach's review.
func whatWeDo(f Finding, autoRefund, ended bool) string {
	switch {
	case f.Excess > 0 && autoRefund:
		return "refund"
	case f.Excess > 0:
		return "review_refund"
	case f.Kind == KindFailed && ended:
		return "ended"
	case f.Kind == KindFailed:
		return "retry"
	case f.Kind == KindMissed:
		return "missed"
	case f.Kind == KindRefundDispute && f.Evidence["what"] == "dispute" && DisputeDecided(fmt.Sprint(f.Evidence["status"])):
		return "decided"
	case f.Kind == KindRefundDispute && f.Evidence["what"] == "dispute":
		return "dispute"
	}
	return "review"
}

// RefundArgs refunds an anomaly's excess (the charter allows it, or the
// coach asked).
type RefundArgs struct {
	AnomalyID int64 `json:"anomaly_id"`
}

// Kind names the job in River's table.
func (RefundArgs) Kind() string { return "webhooks.refund_excess" }

// RefundWorker runs RefundArgs jobs.
type RefundWorker struct {
	river.WorkerDefaults[RefundArgs]
	Reconciler *Reconciler
}

// Work refunds the excess. An anomaly the coach dismissed or settled in the
// meantime has nothing left to refund: the job stops, it is not retried.
func (w *RefundWorker) Work(ctx context.Context, job *river.Job[RefundArgs]) error {
	_, err := w.Reconciler.RefundExcess(ctx, 0, job.Args.AnomalyID, "carnet")
	if errs.CodeOf(err) == errs.Conflict {
		return river.JobCancel(err)
	}
	return err
}

// refundCause names one refund of an anomaly's excess: its Stripe
// idempotency key, its metadata, its remedy row.
func refundCause(anomalyID, paymentID int64) string {
	return fmt.Sprintf("anomaly-%d-payment-%d", anomalyID, paymentID)
}

// AnomalyFilter picks a coach's anomalies: by state, kind and client, newest
// first, before the id After (0: from the newest).
type AnomalyFilter struct {
	State, Kind string
	ClientID    int64
	After       int64
	Limit       int
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
