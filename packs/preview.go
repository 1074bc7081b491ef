package packs

import (
	"context"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/db"
	"carnet/internal/errs"
)

// OutcomePreview is what recording an outcome now would do, judged by the
// same rules as RecordOutcome, without recording it: the coach sees it
// before confirming.
type OutcomePreview struct {
	BookingID int64
	ClientID  int64
	StartsAt  time.Time
	Requested string // what the coach asked for
	Outcome   string // what it would be recorded as (a client's cancellation may be late)
	Charge    Charge
	Currency  string // of Charge.Fee
	// The pack that would pay, if any, and its sessions left before.
	PackID      int64
	PackKind    string
	Remaining   int
	NoPack      bool // a counted outcome with no usable pack: refused, except a late cancellation
	CapReached  bool // NoPack because a period pack's weekly cap is reached
	NoticeHours int
}

// LastSession tells whether this outcome takes the pack's last session.
func (p OutcomePreview) LastSession() bool {
	return p.Charge.Session && p.Charge.Fee == 0 && p.PackKind == KindSessions && p.Remaining == 1
}

// errPreview rolls back a preview's transaction: it only read.
var errPreview = errors.New("preview")

// PreviewOutcome judges an outcome for a booking as if recorded now.
func (s *Service) PreviewOutcome(ctx context.Context, coachID, bookingID int64, outcome string) (OutcomePreview, error) {
	switch outcome {
	case Attended, NoShow, Cancelled, CoachCancelled:
	default:
		return OutcomePreview{}, errs.Field("outcome", "must be attended, no_show, cancelled or coach_cancelled")
	}
	now := s.Now().UTC()
	p := OutcomePreview{BookingID: bookingID, Requested: outcome}
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		b, f, err := outcomeFacts(ctx, tx, coachID, bookingID, outcome, now, now)
		if err != nil {
			return err
		}
		if b.Outcome != nil {
			return errs.New(errs.Conflict, "booking %d is already %s", bookingID, *b.Outcome)
		}
		p.ClientID, p.StartsAt = b.ClientID, b.StartsAt
		// Judged as Decide judges; a missing pack is shown, not refused.
		d := f.cost()
		p.Outcome, p.Charge, p.NoticeHours, p.Currency = d.Outcome, d.Charge, d.Charter.NoticeHours, d.Charter.Currency
		if d.Pack != nil {
			p.PackID, p.PackKind, p.Remaining = d.Pack.ID, d.Pack.Kind, d.Pack.Remaining
		} else {
			p.NoPack = d.Charge.Kind != "" && d.Charge.Fee == 0
			p.CapReached = p.NoPack && d.Capped != nil
		}
		return errPreview
	})
	if errors.Is(err, errPreview) {
		err = nil
	}
	return p, err
}
