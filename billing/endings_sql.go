package billing

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/internal/i18n"
	"carnet/notify"
	"carnet/packs"
)

// EndClient ends the coach's relationship with a client, in one
// transaction: the packs as the charter says, the refunds claimed (made
// by a job, with keys derived from pack and payment), installment plans
// stopped, the client told in their language.
func (s *Service) EndClient(ctx context.Context, coach auth.Coach, clientID int64, reason string) (packs.Ending, error) {
	var e packs.Ending
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		now := s.Now().UTC()
		var err error
		if e, err = packs.EndRelationship(ctx, tx, coach, clientID, reason, now); err != nil {
			return err
		}
		for i := range e.Packs {
			p := &e.Packs[i]
			if e.Unused != packs.EndFinish && p.Plan == PlanInstallments {
				if err := s.enqueueOnce(ctx, tx, StopPlanArgs{PackID: p.PackID}); err != nil {
					return err
				}
			}
			if e.Unused != packs.EndRefund {
				continue
			}
			// What is left of each payment (PaymentsLeft); Stripe's first,
			// newest first, then what was paid by hand.
			money, err := paymentsLeft(ctx, tx, p.PackID)
			if err != nil {
				return err
			}
			var paid int64
			left := make([]int64, len(money))
			for j, m := range money {
				paid, left[j] = paid+max(m.Left, 0), m.Left
			}
			p.Refund = RefundDue(paid, p.Earned)
			take, _ := Allocate(p.Refund, left)
			claimed := false
			for j, m := range money {
				switch {
				case take[j] == 0:
				case m.Stripe:
					if _, err := tx.ExecContext(ctx, `INSERT INTO ending_refunds (pack_id, payment_id, coach_id, amount, claimed_at)
						VALUES ($1, $2, $3, $4, $5)`, p.PackID, m.ID, coach.ID, take[j], now); err != nil {
						return err
					}
					e.Refund += take[j]
					claimed = true
				default:
					e.RefundByHand += take[j]
				}
			}
			if claimed {
				if err := s.enqueueOnce(ctx, tx, EndRefundArgs{PackID: p.PackID}); err != nil {
					return err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE client_endings SET refund_by_hand = $3 WHERE coach_id = $1 AND client_id = $2`,
			coach.ID, clientID, e.RefundByHand); err != nil {
			return err
		}
		return s.tellEnded(ctx, tx, coach, e)
	})
	return e, err
}

// tellEnded writes the client's message, facts only, in their language.
func (s *Service) tellEnded(ctx context.Context, tx *sqlx.Tx, coach auth.Coach, e packs.Ending) error {
	var c struct {
		Name   string `db:"name"`
		Email  string `db:"email"`
		Locale string `db:"locale"`
	}
	if err := tx.GetContext(ctx, &c, `SELECT name, email, locale FROM clients WHERE coach_id = $1 AND id = $2`,
		coach.ID, e.ClientID); err != nil {
		return err
	}
	loc, err := time.LoadLocation(coach.Timezone)
	if err != nil {
		loc = time.UTC
	}
	left := 0
	for _, p := range e.Packs {
		if p.Kind == packs.KindSessions {
			left += p.Remaining
		}
	}
	money := func(n int64) string {
		if n == 0 {
			return ""
		}
		return i18n.Money(n, coach.Currency, c.Locale)
	}
	return notify.Enqueue(ctx, tx, notify.Message{CoachID: coach.ID, ClientID: &e.ClientID, Template: notify.RelationshipEnded,
		Cause: fmt.Sprintf("client:%d:ended", e.ClientID), Locale: c.Locale, To: c.Email,
		Data: map[string]any{"ClientName": c.Name, "CoachName": coach.Name, "EndedOn": i18n.Date(e.EndedAt.In(loc), c.Locale),
			"Unused": e.Unused, "SessionsLeft": left, "Refund": money(e.Refund), "RefundByHand": money(e.RefundByHand)}})
}

// RefundEnding makes each refund claimed for an ended pack that is not done
// yet: a remedy row first (so Stripe's report of the charge is not taken for
// someone else's refund), then Stripe, with a key derived from pack and
// payment. A refund Stripe refuses gives its claim up and keeps the reason.
func (s *Service) RefundEnding(ctx context.Context, packID int64) error {
	var claims []struct {
		PaymentID int64     `db:"payment_id"`
		Amount    int64     `db:"amount"`
		ClaimedAt time.Time `db:"claimed_at"`
	}
	if err := s.DB.SelectContext(ctx, &claims, `SELECT payment_id, amount, claimed_at FROM ending_refunds
		WHERE pack_id = $1 AND done_at IS NULL ORDER BY payment_id`, packID); err != nil {
		return err
	}
	for _, c := range claims {
		cause := fmt.Sprintf("end-pack-%d-payment-%d", packID, c.PaymentID)
		if err := s.ResolveCharge(ctx, c.PaymentID); err != nil {
			return err
		}
		if err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
			return s.ClaimRemedy(ctx, tx, c.PaymentID, c.Amount, cause)
		}); err != nil {
			return err
		}
		id, err := s.refund(ctx, c.PaymentID, c.Amount, cause, "requested_by_customer", c.ClaimedAt)
		if errs.CodeOf(err) == errs.Conflict {
			refused := errs.AsError(err).Message
			err = db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
				if _, err := tx.ExecContext(ctx, `DELETE FROM payments WHERE kind = 'refund' AND status = 'remedy'
					AND stripe_object_id = 'remedy:' || $1`, cause); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `UPDATE ending_refunds SET done_at = $3, last_error = $4
					WHERE pack_id = $1 AND payment_id = $2`, packID, c.PaymentID, s.Now().UTC(), refused)
				return err
			})
			if err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if _, err := s.DB.ExecContext(ctx, `UPDATE ending_refunds SET stripe_refund_id = $3, done_at = $4
			WHERE pack_id = $1 AND payment_id = $2`, packID, c.PaymentID, id, s.Now().UTC()); err != nil {
			return err
		}
	}
	return nil
}
