// Package reports is what a coach reads to run the business: the month's
// attendance sheet, money received and earned, what is still owed to
// clients, revenue concentration, each client's reliability, the coach's own
// cancellations and the payments due. It sits on top of the domain packages
// and reads their rows (and the monthly summary rows the schema keeps beside
// the ledger); it writes nothing but the coach's report settings.
//
// This file holds the rules: plain functions over plain values, the clock
// passed in. reports_sql.go reads the rows, reports_http.go answers
// JSON, CSV and SVG.
package reports

import (
	"sort"
	"strconv"
	"time"

	"carnet/internal/errs"
)

// MonthsShown is how many months the revenue and concentration reports cover.
const MonthsShown = 12

// ConcentrationFlag is the share of revenue past which a client is flagged:
// a coach should not depend on one client for more than a tenth of a year.
const ConcentrationFlag = 0.10

// Month is the first instant of a month in the coach's time zone.
func Month(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
}

// ParseMonth reads "2026-11" in loc; empty is the month holding now.
func ParseMonth(s string, loc *time.Location, now time.Time) (time.Time, error) {
	if s == "" {
		return Month(now, loc), nil
	}
	t, err := time.ParseInLocation("2006-01", s, loc)
	if err != nil || t.Year() < 2000 || t.Year() > 2200 {
		return time.Time{}, errs.Field("month", "must be a month such as 2026-11")
	}
	return t, nil
}

// Months lists n months ending with the one holding last, oldest first.
func Months(last time.Time, n int, loc *time.Location) []time.Time {
	end := Month(last, loc)
	out := make([]time.Time, n)
	for i := range n {
		out[i] = end.AddDate(0, i-n+1, 0)
	}
	return out
}

// Methods are how money is received, as the revenue report splits it: by
// Stripe (card, SEPA Direct Debit, PayPal, other), by the coach's hand
// (bank transfer, cash, other), and unknown for Stripe payments recorded
// before Carnet kept the method, or whose events did not say it.
var Methods = []string{"card", "sepa_debit", "paypal", "bank_transfer", "cash", "other", "unknown"}

// Period is a run of whole months in the coach's time zone, [From, To).
type Period struct {
	From, To time.Time
}

// ParsePeriod reads ?from=2026-01&to=2026-06 (both months included); by
// default the twelve months ending with the current one.
func ParsePeriod(from, to string, loc *time.Location, now time.Time) (Period, error) {
	last, err := ParseMonth(to, loc, now)
	if err != nil {
		return Period{}, errs.Field("to", "must be a month such as 2026-11")
	}
	first := last.AddDate(0, 1-MonthsShown, 0)
	if from != "" {
		if first, err = ParseMonth(from, loc, now); err != nil {
			return Period{}, errs.Field("from", "must be a month such as 2026-01")
		}
	}
	end := last.AddDate(0, 1, 0)
	if !first.Before(end) || first.AddDate(0, 36, 0).Before(end) {
		return Period{}, errs.Field("from", "must come before to, at most 36 months earlier")
	}
	return Period{From: first, To: end}, nil
}

// Share is one client's part of the revenue.
type Share struct {
	ClientID int64   `db:"client_id" json:"client_id"`
	Name     string  `db:"name" json:"name"`
	Amount   int64   `db:"amount" json:"amount"`
	Share    float64 `db:"-" json:"share"` // 0..1 of the total
	Flagged  bool    `db:"-" json:"flagged"`
}

// Concentrate sorts clients by what they paid, largest first, and flags
// those above ConcentrationFlag of the total. Clients who gave nothing net
// are left out.
func Concentrate(in []Share) ([]Share, int64) {
	var total int64
	out := make([]Share, 0, len(in))
	for _, s := range in {
		if s.Amount > 0 {
			total += s.Amount
			out = append(out, s)
		}
	}
	for i := range out {
		out[i].Share = float64(out[i].Amount) / float64(total)
		out[i].Flagged = out[i].Share > ConcentrationFlag
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Amount != out[j].Amount {
			return out[i].Amount > out[j].Amount
		}
		return out[i].ClientID < out[j].ClientID
	})
	return out, total
}

// Reliability is one client's record over a period.
type Reliability struct {
	ClientID       int64  `json:"client_id" db:"client_id"`
	Name           string `json:"name" db:"name"`
	LateCancelled  int    `json:"late_cancellations" db:"late_cancelled"`
	NoShows        int    `json:"no_shows" db:"no_shows"`
	Waived         int    `json:"waived_charges" db:"waived"`
	FailedPayments int    `json:"failed_payments" db:"failed_payments"`
	LatePayments   int    `json:"late_payments" db:"late_payments"`
	Score          int    `json:"score" db:"-"`
	Flagged        bool   `json:"flagged" db:"-"`
	Summary        string `json:"summary" db:"-"` // in the reader's language
}

// Judge scores each client (late cancellations, no-shows, failed and late
// payments; a charge the coach waived still counts as what happened, the
// waiver is shown beside it) and flags those at or past the threshold;
// the worst come first.
func Judge(rows []Reliability, threshold int) []Reliability {
	for i := range rows {
		r := &rows[i]
		r.Score = r.LateCancelled + r.NoShows + r.FailedPayments + r.LatePayments
		r.Flagged = threshold > 0 && r.Score >= threshold
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Score != rows[j].Score {
			return rows[i].Score > rows[j].Score
		}
		return rows[i].ClientID < rows[j].ClientID
	})
	return rows
}

// Rate is part/whole, 0 for an empty whole.
func Rate(part, whole int) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) / float64(whole)
}

// Cost is what a booking cost the client, as the attendance sheet says it.
const (
	CostSession = "session" // taken from a sessions pack, or counted on a period pack
	CostFee     = "fee"
	CostNone    = "none"
)

// BookingCost names a booking's cost from its charge entry: none without
// one, a fee when it carries money, a session otherwise.
func BookingCost(charged bool, fee int64) string {
	switch {
	case !charged:
		return CostNone
	case fee > 0:
		return CostFee
	}
	return CostSession
}

// GrantRow is one goodwill grant with what its ledger entries gave.
type GrantRow struct {
	ID           int64      `db:"id" json:"grant_id"`
	SessionID    *int64     `db:"session_id" json:"session_id,omitempty"`
	SessionTitle *string    `db:"session_title" json:"-"`
	SessionStart *time.Time `db:"session_starts_at" json:"-"`
	Incident     string     `db:"incident" json:"incident,omitempty"`
	Item         string     `db:"item" json:"item"`
	Sessions     int        `db:"sessions" json:"sessions_each"`
	Minutes      int        `db:"minutes" json:"minutes_each"`
	Value        int64      `db:"value_amount" json:"value_each"`
	Note         string     `db:"note" json:"note"`
	Clients      int        `db:"clients" json:"clients"` // ledger entries of the grant
	ValueGiven   int64      `db:"value_given" json:"value_given"`
	CreatedAt    time.Time  `db:"created_at" json:"created_at"`
}

// Incident is what the coach gave to make up for one session or one named
// incident, over all its grants.
type Incident struct {
	SessionID     *int64     `json:"session_id,omitempty"`
	SessionTitle  string     `json:"session_title,omitempty"`
	SessionStart  *time.Time `json:"session_starts_at,omitempty"`
	Incident      string     `json:"incident,omitempty"`
	Grants        []GrantRow `json:"grants"`
	Clients       int        `json:"clients"`
	SessionsGiven int        `json:"sessions_given"`
	MinutesGiven  int        `json:"minutes_given"`
	ValueGiven    int64      `json:"value_given"`
}

// Incidents groups grants by what they make up for (the session, else the
// incident's words), in the order they were first granted, and adds up the
// cost: the value given and the coach's time given.
func Incidents(grants []GrantRow) []Incident {
	out := []Incident{}
	at := map[string]int{}
	for _, g := range grants {
		key := "i:" + g.Incident
		if g.SessionID != nil {
			key = "s:" + strconv.FormatInt(*g.SessionID, 10)
		}
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			inc := Incident{SessionID: g.SessionID, SessionStart: g.SessionStart, Incident: g.Incident}
			if g.SessionTitle != nil {
				inc.SessionTitle = *g.SessionTitle
			}
			out = append(out, inc)
		}
		inc := &out[i]
		inc.Grants = append(inc.Grants, g)
		inc.Clients += g.Clients
		inc.SessionsGiven += g.Sessions * g.Clients
		inc.MinutesGiven += g.Minutes * g.Clients
		inc.ValueGiven += g.ValueGiven
	}
	return out
}
