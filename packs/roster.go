package packs

import (
	"strings"
	"time"

	"carnet/internal/errs"
)

// ClientQuery is what the coach's client list asks for: a search on name
// or email, an order, and a page.
type ClientQuery struct {
	Search  string
	Sort    string // name, balance, valid_until, next_due
	Page    int    // from 1
	PerPage int
}

// ClientLine is one client in the coach's list: what is left and the
// markers that ask for attention.
type ClientLine struct {
	ID           int64      `db:"id"`
	Name         string     `db:"name"`
	Email        string     `db:"email"`
	SessionsLeft *int       `db:"sessions_left"` // over usable sessions packs; nil: none
	PeriodUntil  *time.Time `db:"period_until"`  // the latest usable period pack's end
	PeriodWeek   int        `db:"period_week"`   // sessions counted this week on period packs
	WeeklyCap    *int       `db:"weekly_cap"`
	ValidUntil   *time.Time `db:"valid_until"` // the first usable pack to end
	NextDue      *time.Time `db:"next_due"`
	NextAmount   *int64     `db:"next_amount"`
	NextCurrency *string    `db:"next_currency"`
	Overdue      bool       `db:"overdue"`
	OpenAnomaly  bool       `db:"open_anomaly"`
}

// Thresholds for the markers: DESIGN's low balance (2 left) and the
// expiry reminder's 7 days.
const (
	LowBalance   = 2
	ExpiringDays = 7
)

// Low tells whether the client is down to LowBalance sessions or
// fewer on sessions packs, with no period pack running.
func (l ClientLine) Low() bool {
	return l.SessionsLeft != nil && *l.SessionsLeft <= LowBalance && l.PeriodUntil == nil
}

// Expiring tells whether the first pack to end does so within ExpiringDays.
func (l ClientLine) Expiring(now time.Time) bool {
	return l.ValidUntil != nil && l.ValidUntil.Before(now.AddDate(0, 0, ExpiringDays))
}

// DaysLeft is how many days the period pack still runs (rounded up).
func (l ClientLine) DaysLeft(now time.Time) int {
	if l.PeriodUntil == nil {
		return 0
	}
	d := l.PeriodUntil.Sub(now)
	return int((d + 24*time.Hour - 1) / (24 * time.Hour))
}

// ClientPage is one page of the list.
type ClientPage struct {
	Lines []ClientLine
	Total int
	Query ClientQuery
}

// Pages is how many pages the list has.
func (p ClientPage) Pages() int {
	if p.Total == 0 {
		return 1
	}
	return (p.Total + p.Query.PerPage - 1) / p.Query.PerPage
}

// clientOrders are the list's orders; each but the name puts clients
// without the value first (no sessions left) or last (no end, nothing due),
// then goes by name.
var clientOrders = map[string]string{
	"name":        "",
	"balance":     "NULLS FIRST",
	"valid_until": "NULLS LAST",
	"next_due":    "NULLS LAST",
}

// nullsAt says where an order puts clients without its value.
func nullsAt(sort string) string { return clientOrders[sort] }

func (q *ClientQuery) normalize() error {
	q.Search = strings.TrimSpace(q.Search)
	if q.Sort == "" {
		q.Sort = "name"
	}
	if _, ok := clientOrders[q.Sort]; !ok {
		return errs.Field("sort", "must be name, balance, valid_until or next_due")
	}
	if q.PerPage <= 0 || q.PerPage > 200 {
		q.PerPage = 50
	}
	if q.Page < 1 {
		q.Page = 1
	}
	return nil
}

// likePattern escapes a search for ILIKE.
func likePattern(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(s) + "%"
}
