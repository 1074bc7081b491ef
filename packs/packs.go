// Package packs holds what a coach sells and what a client holds: clients,
// offers, charters, packs, sessions and bookings, and the ledger of every
// balance change — their rules, their SQL and their HTTP handlers.
package packs

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/auth"
	"carnet/internal/db"
)

// Service is the packs domain bound to its database and clock.
type Service struct {
	DB      *sqlx.DB
	Now     func() time.Time // injected so tests can stand anywhere in time
	Links   *auth.Links
	BaseURL string // where client links point
	// OnFee is told, inside the outcome's transaction, that a booking now
	// owes a fee; billing charges it. Nil: fees are only recorded.
	OnFee func(ctx context.Context, tx *sqlx.Tx, bookingID int64) error
}

// What this binary reads of each table, named column by column and never
// `*`: a column a newer release added must not break it (see db.Columns).
var (
	packCols    = db.Columns[Pack]("")
	sessionCols = db.Columns[Session]("")
	clientCols  = db.Columns[Client]("")
	charterCols = db.Columns[Charter]("")
	offerCols   = db.Columns[Offer]("")
)
