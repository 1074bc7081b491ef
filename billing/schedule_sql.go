package billing

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/stripe/stripe-go/v76"
)

func (s *Service) enqueueSchedule(ctx context.Context, tx *sqlx.Tx, packID int64) error {
	return s.enqueueOnce(ctx, tx, ScheduleArgs{PackID: packID})
}

// BindSchedule turns the pack's subscription into a schedule of exactly
// `installments` monthly debits ending with cancel. Both Stripe calls carry
// keys derived from the pack, so a retried job repeats them harmlessly.
func (s *Service) BindSchedule(ctx context.Context, packID int64) error {
	var p struct {
		Subscription *string `db:"stripe_subscription_id"`
		Schedule     *string `db:"stripe_schedule_id"`
		Installments int64   `db:"installments"`
	}
	if err := s.DB.GetContext(ctx, &p, `SELECT stripe_subscription_id, stripe_schedule_id, installments
		FROM packs WHERE id = $1`, packID); err != nil {
		return err
	}
	if p.Subscription == nil || p.Schedule != nil {
		return nil
	}
	create := &stripe.SubscriptionScheduleParams{FromSubscription: p.Subscription}
	create.Context = ctx
	create.IdempotencyKey = s.key("pack-%d-schedule", packID)
	sched, err := s.Stripe.SubscriptionSchedules.New(create)
	if err != nil {
		return fmt.Errorf("create schedule: %w", err)
	}
	if len(sched.Phases) == 0 || len(sched.Phases[0].Items) == 0 || sched.Phases[0].Items[0].Price == nil {
		return fmt.Errorf("schedule %s has no phase to bind", sched.ID)
	}
	phase := sched.Phases[0]
	update := &stripe.SubscriptionScheduleParams{
		EndBehavior: stripe.String(string(stripe.SubscriptionScheduleEndBehaviorCancel)),
		Phases: []*stripe.SubscriptionSchedulePhaseParams{{
			StartDate:  stripe.Int64(phase.StartDate),
			Iterations: stripe.Int64(p.Installments),
			Items:      []*stripe.SubscriptionSchedulePhaseItemParams{{Price: stripe.String(phase.Items[0].Price.ID), Quantity: stripe.Int64(1)}},
		}},
	}
	update.Context = ctx
	update.IdempotencyKey = s.key("pack-%d-schedule-bind", packID)
	if _, err := s.Stripe.SubscriptionSchedules.Update(sched.ID, update); err != nil {
		return fmt.Errorf("bind schedule: %w", err)
	}
	_, err = s.DB.ExecContext(ctx, `UPDATE packs SET stripe_schedule_id = $2, updated_at = $3 WHERE id = $1`,
		packID, sched.ID, s.Now().UTC())
	return err
}
