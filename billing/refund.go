package billing

import (
	"time"

	"carnet/internal/errs"
)

// KeyMemory is how long Stripe is sure to remember an idempotency key (it
// keeps them at least 24 hours): a retry later than that looks for what the
// first try did instead of trusting the key.
const KeyMemory = 23 * time.Hour

// refundable is the payment an excess is given back from.
type refundable struct {
	PackID   *int64  `db:"pack_id"`
	CoachID  *int64  `db:"coach_id"`
	Charge   *string `db:"stripe_charge_id"`
	Intent   *string `db:"stripe_payment_intent_id"`
	Currency string  `db:"currency"`
}

// refundUnavailable is what the caller is told when Stripe fails during a
// refund: plain words, the cause kept in the chain for the logs.
func refundUnavailable(err error) error {
	return errs.Wrap(err, errs.Unavailable, "Stripe did not answer; try again: a refund is never made twice")
}
