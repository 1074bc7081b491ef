package packs

import (
	"strings"
	"time"

	"carnet/internal/auth"
)

// ClientHome is what a client's page shows: their packs with their plans,
// the sessions to come, the history with what each cost, and the payments.
type ClientHome struct {
	Client   Client
	Coach    auth.Coach
	Packs    []PackView
	Upcoming []BookingView
	History  []BookingView
	Payments []PaymentView
}

// PackView is one pack as its holder reads it: its balance (days left and
// this week's sessions for a period pack), its offer, its plan.
type PackView struct {
	PackBalance
	OfferName string
	Signed    bool          // an agreement was accepted for it
	Payments  []PlanPayment // the plan: each expected payment
}

// PlanPayment is one expected payment of a pack and where it stands.
type PlanPayment struct {
	PackID   int64      `db:"pack_id"`
	Seq      int        `db:"seq"`
	DueAt    time.Time  `db:"due_at"`
	Amount   int64      `db:"amount"`
	Currency string     `db:"currency"`
	Status   string     `db:"status"` // due, paid, failed, cancelled
	PaidAt   *time.Time `db:"paid_at"`
}

// Usable tells whether the pack can pay for a session now.
func (p PackView) Usable(now time.Time) bool {
	return (p.Status == StatusActive || p.Status == StatusOverdue) && p.ValidUntil != nil && now.Before(*p.ValidUntil)
}

// DaysLeft is how many days of validity remain, a started day counting as
// one; 0 once it is over.
func DaysLeft(validUntil *time.Time, now time.Time) int {
	if validUntil == nil || !now.Before(*validUntil) {
		return 0
	}
	d := validUntil.Sub(now)
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}

// BookingView is one of the client's bookings and what it cost.
type BookingView struct {
	BookingID        int64      `db:"booking_id"`
	SessionID        int64      `db:"session_id"`
	Title            string     `db:"title"`
	StartsAt         time.Time  `db:"starts_at"`
	DurationMinutes  int        `db:"duration_minutes"`
	Outcome          *string    `db:"outcome"`
	PackID           *int64     `db:"pack_id"`
	SessionCancelled bool       `db:"session_cancelled"`
	Counted          bool       `db:"counted"`  // a charge entry exists
	Sessions         int        `db:"sessions"` // sessions it took (0 for a fee or a period pack)
	Fee              int64      `db:"fee"`
	FeeCurrency      string     `db:"fee_currency"`
	Waived           bool       `db:"waived"`
	ConfirmedAt      *time.Time `db:"confirmed_at"` // the client's confirmation of an attended session
}

// Open tells whether the booking is still to come and can be cancelled.
func (b BookingView) Open(now time.Time) bool {
	return b.Outcome == nil && !b.SessionCancelled && now.Before(b.StartsAt)
}

// PaymentView is a payment as the client's receipts list it.
type PaymentView struct {
	ID         int64     `db:"id"`
	PackID     *int64    `db:"pack_id"`
	OfferName  string    `db:"offer_name"`
	Kind       string    `db:"kind"` // charge, refund, dispute, manual, fee
	Status     string    `db:"status"`
	Amount     int64     `db:"amount"`
	Currency   string    `db:"currency"`
	OccurredAt time.Time `db:"occurred_at"`
	ChargeID   *string   `db:"stripe_charge_id"`
	IntentID   *string   `db:"stripe_payment_intent_id"`
	// Method and ReceiptURL come from Stripe when it says (billing fills
	// them); a payment by hand has its method in its status.
	Method     string `db:"method"`
	ReceiptURL string `db:"receipt_url"`
}

// ManualMethod is the method of a payment recorded by hand ("cash:ref").
func (p PaymentView) ManualMethod() string {
	if p.Kind != "manual" {
		return ""
	}
	m, _, _ := strings.Cut(p.Status, ":")
	return m
}
