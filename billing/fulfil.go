package billing

import (
	"time"

	"github.com/stripe/stripe-go/v76"

	"carnet/packs"
)

// What each Stripe fact does to our rows. Every function runs in the
// transaction that stores the event, is safe to run twice, and gives the same
// end state whatever order the facts arrive in: activation only moves a
// pending pack, a paid installment stays paid, payments are keyed by Stripe's
// own ids, and a pack is found by any id we know of it.

// packRef is the locked pack an event is about.
type packRef struct {
	ID           int64        `db:"id"`
	CoachID      int64        `db:"coach_id"`
	ClientID     int64        `db:"client_id"`
	Plan         string       `db:"plan"`
	Status       packs.Status `db:"status"`
	Subscription *string      `db:"stripe_subscription_id"`
	// Read by linkPack with the lock (findPack leaves it empty): what
	// activating the pack needs.
	packs.Activation
}

// payment is one row of what Stripe reports about money.
type payment struct {
	Pack          *packRef
	InstallmentID *int64
	Kind, Status  string
	Amount        int64
	Currency      stripe.Currency
	Charge        string
	Intent        string
	Invoice       string
	Subscription  string // an invoice's, so it can be linked when its pack is known
	ObjectID      string // Stripe's id of the fact: one row per fact
	Customer      string
	Method        string // card, sepa_debit, paypal, other; "" unknown (PaidWith)
	At            time.Time
	payFirst      bool // an upfront payment: it pays the pack's single installment
}

func unixTime(sec int64, fallback time.Time) time.Time {
	if sec == 0 {
		return fallback
	}
	return time.Unix(sec, 0).UTC()
}

// PairWindow is how far apart an installment's PaymentIntent and its
// invoice may be reported and still be paired when neither names the other.
const PairWindow = 24 * time.Hour

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func customerID(c *stripe.Customer) string {
	if c == nil {
		return ""
	}
	return c.ID
}
