package localstripe

import (
	"time"

	"carnet/packs"
)

type localInstallment struct {
	Seq      int       `db:"seq"`
	DueAt    time.Time `db:"due_at"`
	Amount   int64     `db:"amount"`
	Currency string    `db:"currency"`
	Status   string    `db:"status"`
}

// localView is what the page shows of a pack sold through checkout.
type localView struct {
	ID           int64        `db:"id"`
	Offer        string       `db:"offer"`
	Status       packs.Status `db:"status"`
	Remaining    int          `db:"sessions_remaining"`
	Plan         string       `db:"plan"`
	Kind         string       `db:"kind"`
	Installments []localInstallment
	Actions      []string
	Labels       map[string]string
	Answer       string
}
