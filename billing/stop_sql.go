package billing

import (
	"context"
	"errors"
	"fmt"

	"github.com/stripe/stripe-go/v76"
)

// StopPlan cancels the pack's subscription schedule, or its subscription
// when no schedule was bound yet, with a key derived from the pack. A plan
// Stripe no longer has, or refuses to cancel because it already ended
// (completed, released, cancelled), is already stopped: the same request
// retried would be refused again.
func (s *Service) StopPlan(ctx context.Context, packID int64) error {
	var p struct {
		Subscription *string `db:"stripe_subscription_id"`
		Schedule     *string `db:"stripe_schedule_id"`
	}
	if err := s.DB.GetContext(ctx, &p, `SELECT stripe_subscription_id, stripe_schedule_id FROM packs WHERE id = $1`, packID); err != nil {
		return err
	}
	var err error
	switch {
	case p.Schedule != nil:
		params := &stripe.SubscriptionScheduleCancelParams{}
		params.Context = ctx
		params.IdempotencyKey = s.key("pack-%d-stop-schedule", packID)
		_, err = s.Stripe.SubscriptionSchedules.Cancel(*p.Schedule, params)
	case p.Subscription != nil:
		params := &stripe.SubscriptionCancelParams{}
		params.Context = ctx
		params.IdempotencyKey = s.key("pack-%d-stop-subscription", packID)
		_, err = s.Stripe.Subscriptions.Cancel(*p.Subscription, params)
	}
	var se *stripe.Error
	if errors.As(err, &se) && (se.HTTPStatusCode == 400 || se.HTTPStatusCode == 404) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stop plan of pack %d: %w", packID, err)
	}
	return nil
}
