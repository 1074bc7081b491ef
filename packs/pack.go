package packs

import (
	"time"
)

// Plans a pack can be paid by: through Stripe upfront or in monthly
// installments, or by hand (the coach records it).
const (
	PlanUpfront      = "upfront"
	PlanInstallments = "installments"
	PlanManual       = "manual"
)

// Pack is what a client bought.
type Pack struct {
	ID                int64      `db:"id" json:"id"`
	CoachID           int64      `db:"coach_id" json:"-"`
	ClientID          int64      `db:"client_id" json:"client_id"`
	OfferID           int64      `db:"offer_id" json:"offer_id"`
	CharterVersionID  *int64     `db:"charter_version_id" json:"charter_version_id"`
	Kind              string     `db:"kind" json:"kind"`
	Status            Status     `db:"status" json:"status"`
	Plan              string     `db:"plan" json:"plan"`
	Installments      int        `db:"installments" json:"installments"`
	PriceAmount       int64      `db:"price_amount" json:"price_amount"`
	Currency          string     `db:"currency" json:"currency"`
	SessionsCredited  int        `db:"sessions_credited" json:"sessions_credited"`
	SessionsRemaining int        `db:"sessions_remaining" json:"sessions_remaining"`
	Months            *int       `db:"months" json:"months,omitempty"`
	ValidityDays      *int       `db:"validity_days" json:"validity_days,omitempty"`
	WeeklyCap         *int       `db:"weekly_cap" json:"weekly_cap,omitempty"`
	ActivatedAt       *time.Time `db:"activated_at" json:"activated_at"`
	TermsAcceptedAt   *time.Time `db:"terms_accepted_at" json:"terms_accepted_at,omitempty"`
	ValidUntil        *time.Time `db:"valid_until" json:"valid_until"`
	OverdueSince      *time.Time `db:"overdue_since" json:"overdue_since,omitempty"`
	CheckoutSession   *string    `db:"stripe_checkout_session_id" json:"-"`
	Subscription      *string    `db:"stripe_subscription_id" json:"-"`
	PaymentIntent     *string    `db:"stripe_payment_intent_id" json:"-"`
	Schedule          *string    `db:"stripe_schedule_id" json:"-"`
	Customer          *string    `db:"stripe_customer_id" json:"-"`
	CreatedAt         time.Time  `db:"created_at" json:"created_at"`
	UpdatedAt         time.Time  `db:"updated_at" json:"updated_at"`
}

// Activation is what activating a pack needs, read with the pack's row lock
// (ActivationCols): its kind and terms, its offer's sessions and its
// coach's time zone.
type Activation struct {
	Kind          string  `db:"kind"`
	ValidityDays  *int    `db:"validity_days"`
	Months        *int    `db:"months"`
	OfferSessions *int    `db:"offer_sessions"`
	Timezone      *string `db:"coach_timezone"`
}

// Terms is what a pack activated at `at` gives: until when, and how many
// sessions it credits. A sessions pack holds its offer's sessions for its
// validity days (DefaultValidityDays when it has none); a period pack lasts
// its months in the coach's time zone and credits none.
func (a Activation) Terms(at time.Time) (until time.Time, credit int) {
	at = at.UTC()
	until = at.AddDate(0, 0, DefaultValidityDays)
	switch {
	case a.Kind == KindSessions:
		if a.ValidityDays != nil {
			until = at.AddDate(0, 0, *a.ValidityDays)
		}
		if a.OfferSessions != nil {
			credit = *a.OfferSessions
		}
	case a.Months != nil:
		tz := "UTC"
		if a.Timezone != nil {
			tz = *a.Timezone
		}
		until = AddMonths(at, *a.Months, tz)
	}
	return until, credit
}

// AddMonths adds n calendar months in the time zone tz, keeping the
// wall-clock time and stopping at the month's last day (31 January + 1 month
// is 28 or 29 February, not 3 March), always counted from t, never from the
// month before (31 January + 2 months is 31 March). It is Carnet's one
// meaning of "a month later": a period pack's validity in the coach's zone,
// and installments in Stripe's calendar (billing.InstallmentDue).
func AddMonths(t time.Time, n int, tz string) time.Time {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	t = t.In(loc)
	y, m, d := t.Date()
	first := time.Date(y, m+time.Month(n), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc)
	last := first.AddDate(0, 1, -1).Day()
	return time.Date(first.Year(), first.Month(), min(d, last), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc).UTC()
}

// ManualPackInput records a pack paid outside Stripe (bank transfer, cash).
type ManualPackInput struct {
	OfferID   int64  `json:"offer_id"`
	Method    string `json:"method"`
	Reference string `json:"reference"`
}

var manualMethods = map[string]bool{"bank_transfer": true, "cash": true, "other": true}
