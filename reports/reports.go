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

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/auth"
	"carnet/internal/errs"
	"carnet/internal/i18n"
	"carnet/packs"
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
	ID           int64         `db:"id" json:"grant_id"`
	SessionID    *int64        `db:"session_id" json:"session_id,omitempty"`
	SessionTitle *string       `db:"session_title" json:"-"`
	SessionStart *time.Time    `db:"session_starts_at" json:"-"`
	Incident     string        `db:"incident" json:"incident,omitempty"`
	Item         string        `db:"item" json:"item"`
	Sessions     int           `db:"sessions" json:"sessions_each"`
	Minutes      int           `db:"minutes" json:"minutes_each"`
	Value        int64         `db:"value_amount" json:"value_each"`
	Note         string        `db:"note" json:"note"`
	Clients      int           `db:"clients" json:"clients"` // ledger entries of the grant
	ClientIDs    pq.Int64Array `db:"client_ids" json:"-"`
	ValueGiven   int64         `db:"value_given" json:"value_given"`
	CreatedAt    time.Time     `db:"created_at" json:"created_at"`
}

// Incident is what the coach gave to make up for one session or one named
// incident, over all its grants.
type Incident struct {
	SessionID     *int64     `json:"session_id,omitempty"`
	SessionTitle  string     `json:"session_title,omitempty"`
	SessionStart  *time.Time `json:"session_starts_at,omitempty"`
	Incident      string     `json:"incident,omitempty"`
	Grants        []GrantRow `json:"grants"`
	Clients       int        `json:"clients"` // the clients it reached, each once
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
	reached := map[string]map[int64]bool{} // by incident: its clients, each counted once
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
		if reached[key] == nil {
			reached[key] = map[int64]bool{}
		}
		for _, id := range g.ClientIDs {
			reached[key][id] = true
		}
		inc.Clients = len(reached[key])
		inc.SessionsGiven += g.Sessions * g.Clients
		inc.MinutesGiven += g.Minutes * g.Clients
		inc.ValueGiven += g.ValueGiven
	}
	return out
}

// Service reads the reports of one coach at a time; every query is scoped
// by the coach's id.
type Service struct {
	DB  *sqlx.DB
	Now func() time.Time

	coachOf func(*gin.Context) auth.Coach // who asks, set by Mount
}

// day is how a summary month is passed to PostgreSQL (a date column).
func day(t time.Time) string { return t.Format("2006-01-02") }

// AttendanceRow is one booking of the month.
type AttendanceRow struct {
	BookingID         int64      `db:"booking_id" json:"booking_id"`
	SessionID         int64      `db:"session_id" json:"session_id"`
	StartsAt          time.Time  `db:"starts_at" json:"starts_at"`
	Title             string     `db:"title" json:"session_title"`
	SessionKind       string     `db:"session_kind" json:"session_kind"`
	DurationMinutes   int        `db:"duration_minutes" json:"duration_minutes"`
	ClientID          int64      `db:"client_id" json:"client_id"`
	ClientName        string     `db:"client_name" json:"client_name"`
	Outcome           *string    `db:"outcome" json:"outcome"` // null: not recorded yet
	Charged           bool       `db:"charged" json:"-"`
	Cost              string     `db:"-" json:"cost"` // session, fee or none
	FeeAmount         int64      `db:"fee" json:"fee_amount"`
	PackID            *int64     `db:"pack_id" json:"pack_id,omitempty"`
	PackKind          *string    `db:"pack_kind" json:"pack_kind,omitempty"`
	Waived            bool       `db:"waived" json:"waived"`
	WaiverReason      string     `db:"waiver_reason" json:"waiver_reason,omitempty"`
	WaivedAt          *time.Time `db:"waived_at" json:"waived_at,omitempty"`
	ClientConfirmedAt *time.Time `db:"client_confirmed_at" json:"client_confirmed_at"`
}

// AttendanceTotals adds up the whole month (not only the page shown).
type AttendanceTotals struct {
	Bookings        int   `db:"bookings" json:"bookings"`
	Attended        int   `db:"attended" json:"attended"`
	NoShows         int   `db:"no_shows" json:"no_shows"`
	Cancelled       int   `db:"cancelled" json:"cancelled"`
	LateCancelled   int   `db:"late_cancelled" json:"late_cancelled"`
	CoachCancelled  int   `db:"coach_cancelled" json:"coach_cancelled"`
	NotRecorded     int   `db:"not_recorded" json:"not_recorded"`
	SessionsCharged int   `db:"sessions_charged" json:"sessions_charged"`
	FeesCharged     int64 `db:"fees_charged" json:"fees_charged"`
	Waived          int   `db:"waived" json:"waived"`
	Confirmed       int   `db:"confirmed" json:"client_confirmed"`
}

// MonthMoney is one month of the revenue report, in the coach's currency.
type MonthMoney struct {
	Month          string           `json:"month"` // 2026-11
	Received       int64            `json:"received"`
	ByMethod       map[string]int64 `json:"received_by_method"`
	Refunded       int64            `json:"refunded"` // refunds and lost disputes
	Net            int64            `json:"net"`
	EarnedSessions int64            `json:"earned_sessions"`
	EarnedPeriod   int64            `json:"earned_period"`
	Earned         int64            `json:"earned"`
}

// Location is the coach's time zone, which decides the months.
func Location(coach auth.Coach) *time.Location {
	loc, err := time.LoadLocation(coach.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Word is one of the reports' texts in lang, for pages that show them.
func Word(lang, id string, pairs ...any) string { return words.T(lang, id, pairs...) }

// RevenueChart draws the months' net received and earned, labelled in lang.
func RevenueChart(months []time.Time, rows []MonthMoney, currency, lang string) Chart {
	ch := Chart{Title: words.T(lang, "revenue_title"), Format: func(n int64) string { return i18n.Money(n, currency, lang) },
		Series: []Series{{Name: words.T(lang, "received_net")}, {Name: words.T(lang, "earned")}}}
	for i, r := range rows {
		ch.Labels = append(ch.Labels, i18n.Month(months[i], lang))
		ch.Series[0].Values = append(ch.Series[0].Values, r.Net)
		ch.Series[1].Values = append(ch.Series[1].Values, r.Earned)
	}
	return ch
}

// ConcentrationChart draws the ten largest shares (the page's table and
// the CSV list everyone), each labelled with its share, a flagged one
// marked.
func ConcentrationChart(r ConcentrationReport, currency, lang string) Chart {
	ch := Chart{Title: words.T(lang, "concentration_title"), Format: func(n int64) string { return i18n.Money(n, currency, lang) },
		Series: []Series{{Name: words.T(lang, "col_net")}}}
	for _, sh := range r.Shares[:min(len(r.Shares), 10)] {
		label := shorten(sh.Name, labelRunes-10) + " " + i18n.Percent(sh.Share, lang) // the share is never cut
		if sh.Flagged {
			label = "⚠ " + label
		}
		ch.Labels = append(ch.Labels, label)
		ch.Series[0].Values = append(ch.Series[0].Values, sh.Amount)
	}
	return ch
}

// OwedPack is one pack with service still owed.
type OwedPack struct {
	ClientID   int64     `db:"client_id" json:"client_id"`
	ClientName string    `db:"client_name" json:"client_name"`
	PackID     int64     `db:"pack_id" json:"pack_id"`
	Kind       string    `db:"kind" json:"kind"`
	Price      int64     `db:"price_amount" json:"price_amount"`
	Credited   int       `db:"sessions_credited" json:"sessions_credited"`
	Remaining  int       `db:"sessions_remaining" json:"sessions_remaining"`
	Activated  time.Time `db:"activated_at" json:"activated_at"`
	ValidUntil time.Time `db:"valid_until" json:"valid_until"`
	DaysLeft   int       `db:"-" json:"days_left,omitempty"` // period packs
	Value      int64     `db:"-" json:"value"`
	Expiring   bool      `db:"-" json:"expires_within_30_days"`
}

// value sets what a live pack still owes, and whether it expires soon.
func (r *OwedPack) value(now time.Time, loc *time.Location) {
	if r.Kind == packs.KindSessions {
		r.Value = packs.SessionsOwed(r.Price, r.Credited, r.Remaining)
	} else {
		r.Value = r.Price - packs.PeriodEarnedBy(r.Price, r.Activated, r.ValidUntil, time.Time{}, now, loc)
		r.DaysLeft = packs.Days(now, r.ValidUntil, loc)
	}
	r.Expiring = !r.ValidUntil.After(now.AddDate(0, 0, 30))
}

// OwedTotal adds up what is owed: all of it, and what expires within 30 days.
type OwedTotal struct {
	Sessions int   `db:"sessions" json:"sessions"`
	Value    int64 `db:"value" json:"value"`
	Packs    int   `db:"packs" json:"packs"`
}

// DefaultThreshold flags a client with three incidents in the period.
const DefaultThreshold = 3

// Settings are the coach's report settings.
type Settings struct {
	ReliabilityThreshold int `json:"reliability_threshold"`
}

// CancellationMonth is the coach's own cancellations in one month.
type CancellationMonth struct {
	Month          string  `db:"month" json:"month"`
	Bookings       int     `db:"bookings" json:"bookings"`
	CoachCancelled int     `db:"coach_cancelled" json:"coach_cancelled"`
	Rate           float64 `db:"-" json:"rate"`
}

// AfterCoach is how one client cancels right after the coach cancelled one
// of their sessions, against how they usually cancel.
type AfterCoach struct {
	ClientID        int64   `db:"client_id" json:"client_id"`
	Name            string  `db:"name" json:"name"`
	AfterCoach      int     `db:"after_coach_cancel" json:"next_bookings"`
	CancelledAfter  int     `db:"cancelled_after_coach" json:"cancelled_next"`
	ClientBookings  int     `db:"client_bookings" json:"bookings"`
	ClientCancelled int     `db:"client_cancelled" json:"cancelled"`
	RateAfter       float64 `db:"-" json:"rate_after_coach_cancel"`
	UsualRate       float64 `db:"-" json:"usual_rate"`
}

// DueInstallment is an installment still expected.
type DueInstallment struct {
	ID         int64     `db:"id" json:"installment_id"`
	PackID     int64     `db:"pack_id" json:"pack_id"`
	ClientID   int64     `db:"client_id" json:"client_id"`
	ClientName string    `db:"client_name" json:"client_name"`
	Seq        int       `db:"seq" json:"seq"`
	DueAt      time.Time `db:"due_at" json:"due_at"`
	Amount     int64     `db:"amount" json:"amount"`
	Currency   string    `db:"currency" json:"currency"`
	Status     string    `db:"status" json:"status"` // due, overdue or failed
}

// HeldAnomaly is an open anomaly and the money it holds.
type HeldAnomaly struct {
	ID       int64   `db:"id" json:"anomaly_id"`
	Kind     string  `db:"kind" json:"kind"`
	ClientID *int64  `db:"client_id" json:"client_id"`
	Excess   int64   `db:"excess_amount" json:"excess_amount"`
	Currency *string `db:"currency" json:"currency"`
}

// OwedClient is what one client is still owed.
type OwedClient struct {
	ClientID      int64      `json:"client_id"`
	Name          string     `json:"name"`
	Sessions      int        `json:"sessions"`
	Value         int64      `json:"value"`
	ExpiringValue int64      `json:"expiring_value"`
	Packs         []OwedPack `json:"packs"`
}

// ByClient groups live packs (ordered by client) into what each client is
// still owed, and what of it expires within 30 days.
func ByClient(packs []OwedPack) []OwedClient {
	clients := []OwedClient{}
	for _, p := range packs {
		if n := len(clients); n == 0 || clients[n-1].ClientID != p.ClientID {
			clients = append(clients, OwedClient{ClientID: p.ClientID, Name: p.ClientName})
		}
		cl := &clients[len(clients)-1]
		cl.Packs = append(cl.Packs, p)
		cl.Sessions += p.Remaining
		cl.Value += p.Value
		if p.Expiring {
			cl.ExpiringValue += p.Value
		}
	}
	return clients
}

// OwedReport is what the coach still owes in service: in total, what of it
// expires within 30 days, and one page of clients.
type OwedReport struct {
	Total, Expiring OwedTotal
	Clients         []OwedClient
	NextCursor      string
}

// ConcentrationReport is each paying client's share of twelve months'
// money, the largest first.
type ConcentrationReport struct {
	Months  []time.Time
	Total   int64
	Shares  []Share
	Flagged int
}

// ReliabilityReport is every client with an incident in the period, the
// least reliable first, judged against the coach's threshold.
type ReliabilityReport struct {
	Period    Period
	Threshold int
	Clients   []Reliability
	Flagged   int
}

// CancellationsReport is the coach's own cancellations by month, and how
// clients cancel right after one of theirs, against their usual rate.
type CancellationsReport struct {
	Period                          Period
	Months                          []CancellationMonth
	Bookings, CoachCancelled        int
	Clients                         []AfterCoach // most above their usual rate first
	NextBookings, CancelledNext     int          // every client's, after a cancellation by the coach
	ClientBookings, ClientCancelled int          // every client's, over the period
}

// Rate is the coach's cancellations over the period's bookings.
func (r CancellationsReport) Rate() float64 { return Rate(r.CoachCancelled, r.Bookings) }

// RateAfter is how often clients cancel the session right after one the
// coach cancelled.
func (r CancellationsReport) RateAfter() float64 { return Rate(r.CancelledNext, r.NextBookings) }

// UsualRate is how often those clients cancel over the period.
func (r CancellationsReport) UsualRate() float64 { return Rate(r.ClientCancelled, r.ClientBookings) }

// Cancellations adds up the months and the clients, sets each rate, and
// puts first the clients who cancel most above their usual rate after the
// coach cancelled.
func Cancellations(p Period, months []CancellationMonth, clients []AfterCoach) CancellationsReport {
	r := CancellationsReport{Period: p, Months: months, Clients: clients}
	for i := range months {
		months[i].Rate = Rate(months[i].CoachCancelled, months[i].Bookings)
		r.Bookings, r.CoachCancelled = r.Bookings+months[i].Bookings, r.CoachCancelled+months[i].CoachCancelled
	}
	for i := range clients {
		cl := &clients[i]
		cl.RateAfter, cl.UsualRate = Rate(cl.CancelledAfter, cl.AfterCoach), Rate(cl.ClientCancelled, cl.ClientBookings)
		r.NextBookings, r.CancelledNext = r.NextBookings+cl.AfterCoach, r.CancelledNext+cl.CancelledAfter
		r.ClientBookings, r.ClientCancelled = r.ClientBookings+cl.ClientBookings, r.ClientCancelled+cl.ClientCancelled
	}
	sort.SliceStable(clients, func(i, j int) bool {
		return clients[i].RateAfter-clients[i].UsualRate > clients[j].RateAfter-clients[j].UsualRate
	})
	return r
}

// DueReport is the money expected in the next 30 days, what is overdue or
// failed, and what open anomalies hold.
type DueReport struct {
	Upcoming, Overdue, Failed                []DueInstallment
	UpcomingSum, OverdueSum, FailedSum, Held int64
	Anomalies                                []HeldAnomaly
}

// SortDue puts each expected installment in its group at now: failed,
// overdue (its date passed), or upcoming; and adds up each group and the
// money held in open anomalies.
func SortDue(rows []DueInstallment, held []HeldAnomaly, now time.Time) DueReport {
	r := DueReport{Upcoming: []DueInstallment{}, Overdue: []DueInstallment{}, Failed: []DueInstallment{}, Anomalies: held}
	for _, d := range rows {
		switch {
		case d.Status == "failed":
			r.Failed, r.FailedSum = append(r.Failed, d), r.FailedSum+d.Amount
		case d.DueAt.Before(now):
			d.Status = "overdue"
			r.Overdue, r.OverdueSum = append(r.Overdue, d), r.OverdueSum+d.Amount
		default:
			r.Upcoming, r.UpcomingSum = append(r.Upcoming, d), r.UpcomingSum+d.Amount
		}
	}
	for _, a := range held {
		r.Held += a.Excess
	}
	return r
}

// IncidentsReport is what the coach gave to make up for incidents over a
// period, each incident with its cost, and the period's total.
type IncidentsReport struct {
	Period                      Period
	Incidents                   []Incident
	ValueGiven                  int64
	MinutesGiven, SessionsGiven int
}

// CostOf groups grants into incidents and adds up the period's cost.
func CostOf(p Period, grants []GrantRow) IncidentsReport {
	r := IncidentsReport{Period: p, Incidents: Incidents(grants)}
	for _, inc := range r.Incidents {
		r.ValueGiven, r.MinutesGiven, r.SessionsGiven = r.ValueGiven+inc.ValueGiven, r.MinutesGiven+inc.MinutesGiven, r.SessionsGiven+inc.SessionsGiven
	}
	return r
}

// Last is the period's last month.
func (p Period) Last() time.Time { return p.To.AddDate(0, -1, 0) }
