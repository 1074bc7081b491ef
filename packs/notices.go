package packs

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"
)

// packParty is who a message about a pack goes to, and what it names.
type packParty struct {
	CoachID     int64      `db:"coach_id"`
	ClientID    int64      `db:"client_id"`
	ClientName  string     `db:"client_name"`
	ClientEmail string     `db:"client_email"`
	Locale      string     `db:"locale"`
	CoachName   string     `db:"coach_name"`
	Offer       string     `db:"offer"`
	Currency    string     `db:"currency"`
	Price       int64      `db:"price_amount"`
	ValidUntil  *time.Time `db:"valid_until"`
	Remaining   int        `db:"sessions_remaining"`
	Kind        string     `db:"kind"`
	WeeklyCap   *int       `db:"weekly_cap"`
	Timezone    string     `db:"timezone"`
}

// LowBalanceAt is the balance at which a client is told to renew.
const LowBalanceAt = 2

// RemindArgs is the periodic job for the reminders: packs expiring in 7
// days, installments due in 3 days, last month's attendance summary.
type RemindArgs struct{}

// Kind names the job in River's table.
func (RemindArgs) Kind() string { return "packs.remind" }

// RemindWorker writes the reminders due; each has its cause, so running it
// every hour, or twice, sends each reminder once.
type RemindWorker struct {
	river.WorkerDefaults[RemindArgs]
	DB  *sqlx.DB
	Now func() time.Time
}

// Work writes the reminders due now.
func (w *RemindWorker) Work(ctx context.Context, _ *river.Job[RemindArgs]) error {
	return Remind(ctx, w.DB, w.Now().UTC())
}

// madeUpFor is the session a goodwill grant makes up for, as its message
// names it.
type madeUpFor struct {
	Title    string    `db:"title"`
	StartsAt time.Time `db:"starts_at"`
}
