package packs

import (
	"time"
)

// What a charter says becomes of a client's unused sessions when the coach
// ends the relationship.
const (
	EndFinish  = "finish"  // the client finishes them
	EndRefund  = "refund"  // the unused part is refunded pro rata
	EndNothing = "nothing" // they are written off, nothing is given back
)

// EndedPack is a pack that still owed service when the relationship ended.
type EndedPack struct {
	PackID     int64     `db:"id" json:"pack_id"`
	Kind       string    `db:"kind" json:"kind"`
	Plan       string    `db:"plan" json:"plan"`
	Price      int64     `db:"price_amount" json:"price_amount"`
	Credited   int       `db:"sessions_credited" json:"-"`
	Remaining  int       `db:"sessions_remaining" json:"sessions_left"`
	Activated  time.Time `db:"activated_at" json:"-"`
	ValidUntil time.Time `db:"valid_until" json:"-"`
	Earned     int64     `db:"-" json:"earned"` // what the service given so far is worth
	Refund     int64     `db:"-" json:"refund,omitempty"`
}

// Ending is a relationship the coach ended, and what became of its packs.
type Ending struct {
	ClientID     int64       `json:"client_id"`
	EndedAt      time.Time   `json:"ended_at"`
	Unused       string      `json:"unused"`
	Reason       string      `json:"reason,omitempty"`
	Packs        []EndedPack `json:"packs"`
	Currency     string      `json:"currency"`
	Refund       int64       `json:"refund"`         // through Stripe
	RefundByHand int64       `json:"refund_by_hand"` // paid by hand, given back by the coach
	CharterID    *int64      `json:"-"`
}
