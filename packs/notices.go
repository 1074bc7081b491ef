package packs

import (
	"context"
	"fmt"
	"maps"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"carnet/internal/db"
	"carnet/internal/i18n"
	"carnet/notify"
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
}

// NotifyClient writes a message about a pack to its client's outbox, in tx,
// at most once per cause. data adds to the keys every pack message has
// (ClientName, CoachName, OfferName, and the formatted ValidUntil, Amount,
// SessionsLeft); an AmountMinor (int64) or a DueAt (time) in data are
// formatted in the client's language as Amount and DueDate.
func NotifyClient(ctx context.Context, tx *sqlx.Tx, packID int64, template, cause string, data map[string]any) error {
	var p packParty
	if err := tx.GetContext(ctx, &p, `SELECT p.coach_id, p.client_id, c.name AS client_name, c.email AS client_email,
		c.locale, co.name AS coach_name, o.name AS offer, p.currency, p.price_amount, p.valid_until,
		p.sessions_remaining, p.kind
		FROM packs p JOIN clients c ON c.id = p.client_id JOIN coaches co ON co.id = p.coach_id
		JOIN offers o ON o.id = p.offer_id WHERE p.id = $1`, packID); err != nil {
		return err
	}
	all := map[string]any{"ClientName": p.ClientName, "CoachName": p.CoachName, "OfferName": p.Offer,
		"Amount": i18n.Money(p.Price, p.Currency, p.Locale), "SessionsLeft": p.Remaining}
	if p.ValidUntil != nil {
		all["ValidUntil"] = i18n.Date(*p.ValidUntil, p.Locale)
		all["ExpiresOn"] = all["ValidUntil"]
	}
	maps.Copy(all, data)
	if v, ok := data["AmountMinor"].(int64); ok {
		all["Amount"] = i18n.Money(v, p.Currency, p.Locale)
	}
	if t, ok := data["DueAt"].(time.Time); ok {
		all["DueDate"] = i18n.Date(t, p.Locale)
	}
	return notify.Enqueue(ctx, tx, notify.Message{CoachID: p.CoachID, ClientID: &p.ClientID, Cause: cause,
		Template: template, Locale: p.Locale, To: p.ClientEmail, Data: all})
}

// LowBalanceAt is the balance at which a client is told to renew.
const LowBalanceAt = 2

// afterDeduction tells the client when a sessions pack comes down to its
// last two sessions, once per pack.
func afterDeduction(ctx context.Context, tx *sqlx.Tx, packID int64) error {
	var left int
	err := tx.GetContext(ctx, &left, `SELECT sessions_remaining FROM packs WHERE id = $1 AND kind = 'sessions'`, packID)
	switch {
	case db.NoRows(err): // a period pack: no balance to tell
		return nil
	case err != nil:
		return err
	case left != LowBalanceAt:
		return nil
	}
	return NotifyClient(ctx, tx, packID, notify.LowBalance, fmt.Sprintf("pack:%d:low", packID), nil)
}

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

// Remind writes every reminder due at now.
func Remind(ctx context.Context, d *sqlx.DB, now time.Time) error {
	var expiring []int64
	if err := d.SelectContext(ctx, &expiring, `SELECT id FROM packs WHERE status IN ('active', 'overdue')
		AND valid_until > $1 AND valid_until <= $2 AND (kind = 'period' OR sessions_remaining > 0)`,
		now, now.AddDate(0, 0, 7)); err != nil {
		return err
	}
	for _, id := range expiring {
		if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
			return NotifyClient(ctx, tx, id, notify.PackExpiring, fmt.Sprintf("pack:%d:expiring", id), nil)
		}); err != nil {
			return err
		}
	}
	var due []struct {
		ID     int64     `db:"id"`
		PackID int64     `db:"pack_id"`
		DueAt  time.Time `db:"due_at"`
		Amount int64     `db:"amount"`
	}
	if err := d.SelectContext(ctx, &due, `SELECT i.id, i.pack_id, i.due_at, i.amount FROM installments i
		JOIN packs p ON p.id = i.pack_id WHERE i.status = 'due' AND i.seq > 1 AND p.status IN ('active', 'overdue', 'exhausted')
		AND i.due_at > $1 AND i.due_at <= $2`, now, now.AddDate(0, 0, 3)); err != nil {
		return err
	}
	for _, i := range due {
		if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
			return NotifyClient(ctx, tx, i.PackID, notify.InstallmentDue, fmt.Sprintf("installment:%d:due", i.ID),
				map[string]any{"AmountMinor": i.Amount, "DueAt": i.DueAt})
		}); err != nil {
			return err
		}
	}
	return monthlySummaries(ctx, d, now)
}

// monthlySummaries sends, in the first three days of a month (coach's time
// zone), each client who had sessions last month what became of them.
func monthlySummaries(ctx context.Context, d *sqlx.DB, now time.Time) error {
	var rows []struct {
		CoachID     int64     `db:"coach_id"`
		ClientID    int64     `db:"client_id"`
		ClientName  string    `db:"client_name"`
		ClientEmail string    `db:"client_email"`
		Locale      string    `db:"locale"`
		CoachName   string    `db:"coach_name"`
		Month       time.Time `db:"month"`
		Attended    int       `db:"attended"`
		Cancelled   int       `db:"cancelled"`
		Missed      int       `db:"missed"`
	}
	err := d.SelectContext(ctx, &rows, `SELECT b.coach_id, b.client_id, c.name AS client_name, c.email AS client_email,
		c.locale, co.name AS coach_name,
		date_trunc('month', ($1::timestamptz AT TIME ZONE co.timezone) - interval '1 month') AS month,
		count(*) FILTER (WHERE b.outcome = 'attended') AS attended,
		count(*) FILTER (WHERE b.outcome IN ('cancelled', 'late_cancelled', 'coach_cancelled')) AS cancelled,
		count(*) FILTER (WHERE b.outcome = 'no_show') AS missed
		FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN clients c ON c.id = b.client_id
		JOIN coaches co ON co.id = b.coach_id
		WHERE extract(day FROM $1::timestamptz AT TIME ZONE co.timezone) <= 3
		  AND date_trunc('month', s.starts_at AT TIME ZONE co.timezone)
		      = date_trunc('month', ($1::timestamptz AT TIME ZONE co.timezone) - interval '1 month')
		  AND b.outcome IS NOT NULL
		GROUP BY b.coach_id, b.client_id, c.name, c.email, c.locale, co.name, co.timezone`, now)
	if err != nil {
		return err
	}
	for _, r := range rows {
		if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
			return notify.Enqueue(ctx, tx, notify.Message{CoachID: r.CoachID, ClientID: &r.ClientID,
				Cause: fmt.Sprintf("summary:%d:%s", r.ClientID, r.Month.Format("2006-01")), Template: notify.MonthlySummary,
				Locale: r.Locale, To: r.ClientEmail, Data: map[string]any{"ClientName": r.ClientName, "CoachName": r.CoachName,
					"Month": i18n.Month(r.Month, r.Locale), "Attended": r.Attended, "Cancelled": r.Cancelled, "Missed": r.Missed}})
		}); err != nil {
			return err
		}
	}
	return nil
}
