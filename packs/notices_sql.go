package packs

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/i18n"
	"carnet/notify"
)

// NotifyClient writes a message about a pack to its client's outbox, in tx,
// at most once per cause. data adds to the keys every pack message has
// (ClientName, CoachName, OfferName, and the formatted ValidUntil, Amount,
// SessionsLeft); an AmountMinor (int64), a DueAt or a UsableAt (times) in
// data are formatted in the client's language as Amount, DueDate and
// UsableUntil.
func NotifyClient(ctx context.Context, tx *sqlx.Tx, packID int64, template, cause string, data map[string]any) error {
	var r partyRow
	if err := tx.GetContext(ctx, &r, `SELECT `+db.Columns[Pack]("p")+`, `+partySQL+` FROM packs p `+partyJoins+`
		WHERE p.id = $1`, packID); err != nil {
		return err
	}
	return r.notify(ctx, tx, template, cause, data)
}

// partySQL reads, beside a pack row p (a table or a statement's RETURNING)
// and its partyJoins, what a message about the pack names: a partyRow.
const partySQL = `c.name AS client_name, c.email AS client_email, c.locale, co.name AS coach_name, o.name AS offer,
	co.timezone, (SELECT json_agg(json_build_object('Amount', amount, 'DueAt', due_at) ORDER BY seq) FROM installments
		WHERE pack_id = p.id AND status <> 'cancelled') AS plan_installments`

const partyJoins = `JOIN clients c ON c.id = p.client_id JOIN coaches co ON co.id = p.coach_id JOIN offers o ON o.id = p.offer_id`

// partyRow is a pack and what partySQL reads beside it.
type partyRow struct {
	Pack
	ClientName  string `db:"client_name"`
	ClientEmail string `db:"client_email"`
	Locale      string `db:"locale"`
	CoachName   string `db:"coach_name"`
	Offer       string `db:"offer"`
	Timezone    string `db:"timezone"`
	Plan        []byte `db:"plan_installments"` // the installments not cancelled, in order (JSON)
}

// notify writes message template about the pack r was read for.
func (r partyRow) notify(ctx context.Context, tx *sqlx.Tx, template, cause string, data map[string]any) error {
	var plan []planned
	if r.Plan != nil {
		if err := json.Unmarshal(r.Plan, &plan); err != nil {
			return fmt.Errorf("pack %d plan: %w", r.ID, err)
		}
	}
	party := packParty{CoachID: r.CoachID, ClientID: r.ClientID, ClientName: r.ClientName, ClientEmail: r.ClientEmail,
		Locale: r.Locale, CoachName: r.CoachName, Offer: r.Offer, Currency: r.Currency, Price: r.PriceAmount,
		ValidUntil: r.ValidUntil, Remaining: r.SessionsRemaining, Kind: r.Kind, WeeklyCap: r.WeeklyCap, Timezone: r.Timezone}
	return notifyParty(ctx, tx, party, plan, template, cause, data)
}

// planned is an installment of the plan, as the purchase message tells it.
type planned struct {
	Amount int64
	DueAt  time.Time
}

// notifyParty writes a message about a pack to its party (and, for the
// purchase message, names the plan's installments not cancelled, in order).
func notifyParty(ctx context.Context, tx *sqlx.Tx, p packParty, plan []planned, template, cause string, data map[string]any) error {
	// Days are the coach's: a debit at 23:30 UTC is the next day in Paris.
	loc, err := time.LoadLocation(p.Timezone)
	if err != nil {
		loc = time.UTC
	}
	day := func(t time.Time) string { return i18n.Date(t.In(loc), p.Locale) }
	all := map[string]any{"ClientName": p.ClientName, "CoachName": p.CoachName, "OfferName": p.Offer,
		"Amount": i18n.Money(p.Price, p.Currency, p.Locale), "SessionsLeft": p.Remaining}
	if p.ValidUntil != nil {
		all["ValidUntil"] = day(*p.ValidUntil)
		all["ExpiresOn"] = all["ValidUntil"]
	}
	if template == notify.PackPurchased {
		purchaseData(plan, p, day, all)
	}
	maps.Copy(all, data)
	if v, ok := data["AmountMinor"].(int64); ok {
		all["Amount"] = i18n.Money(v, p.Currency, p.Locale)
	}
	if t, ok := data["DueAt"].(time.Time); ok {
		all["DueDate"] = day(t)
	}
	if t, ok := data["UsableAt"].(time.Time); ok {
		all["UsableUntil"] = day(t)
		delete(all, "UsableAt")
	}
	return notify.Enqueue(ctx, tx, notify.Message{CoachID: p.CoachID, ClientID: &p.ClientID, Cause: cause,
		Template: template, Locale: p.Locale, To: p.ClientEmail, Data: all})
}

// purchaseData is what the purchase message says of the plan: what was
// received (the first installment of a plan, not the whole price), how
// many payments there are, and the next debit's amount and date.
func purchaseData(plan []planned, p packParty, day func(time.Time) string, all map[string]any) {
	all["Installments"], all["NextAmount"], all["NextDate"] = max(len(plan), 1), "", ""
	if len(plan) > 0 {
		all["Amount"] = i18n.Money(plan[0].Amount, p.Currency, p.Locale)
	}
	if len(plan) > 1 {
		all["NextAmount"], all["NextDate"] = i18n.Money(plan[1].Amount, p.Currency, p.Locale), day(plan[1].DueAt)
	}
	all["Kind"], all["LowAt"], all["WeeklyCap"] = p.Kind, LowBalanceAt, 0
	if p.WeeklyCap != nil {
		all["WeeklyCap"] = *p.WeeklyCap
	}
}

// afterDeduction tells the client when a sessions pack comes down to its
// last two sessions, once per pack.
func afterDeduction(ctx context.Context, tx *sqlx.Tx, packID int64, left int) error {
	if left != LowBalanceAt {
		return nil
	}
	return NotifyClient(ctx, tx, packID, notify.LowBalance, fmt.Sprintf("pack:%d:low", packID), nil)
}

// Remind writes every reminder due at now.
func Remind(ctx context.Context, d *sqlx.DB, now time.Time) error {
	var expiring []int64
	if err := d.SelectContext(ctx, &expiring, `SELECT id FROM packs WHERE status IN `+StatusSQL(StatusActive, StatusOverdue)+`
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
// zone), each client who had sessions last month what became of each one,
// as a tracking sheet does: its day, its outcome, what it cost; then the
// counts and the sessions left.
func monthlySummaries(ctx context.Context, d *sqlx.DB, now time.Time) error {
	var rows []struct {
		CoachID     int64     `db:"coach_id"`
		ClientID    int64     `db:"client_id"`
		ClientName  string    `db:"client_name"`
		ClientEmail string    `db:"client_email"`
		Locale      string    `db:"locale"`
		CoachName   string    `db:"coach_name"`
		Timezone    string    `db:"timezone"`
		Month       time.Time `db:"month"`
	}
	err := d.SelectContext(ctx, &rows, `SELECT DISTINCT b.coach_id, b.client_id, c.name AS client_name, c.email AS client_email,
		c.locale, co.name AS coach_name, co.timezone,
		date_trunc('month', ($1::timestamptz AT TIME ZONE co.timezone) - interval '1 month') AS month
		FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN clients c ON c.id = b.client_id
		JOIN coaches co ON co.id = b.coach_id
		WHERE extract(day FROM $1::timestamptz AT TIME ZONE co.timezone) <= 3
		  AND date_trunc('month', s.starts_at AT TIME ZONE co.timezone)
		      = date_trunc('month', ($1::timestamptz AT TIME ZONE co.timezone) - interval '1 month')
		  AND b.outcome IS NOT NULL`, now)
	if err != nil {
		return err
	}
	for _, r := range rows {
		cause := fmt.Sprintf("summary:%d:%s", r.ClientID, r.Month.Format("2006-01"))
		if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
			var done bool
			if err := tx.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM notifications WHERE cause_key = $1)`, cause); err != nil || done {
				return err
			}
			data, err := summaryData(ctx, tx, r.ClientID, r.Month, r.Timezone, r.Locale, r.CoachName, now)
			if err != nil {
				return err
			}
			data["ClientName"], data["CoachName"] = r.ClientName, r.CoachName
			return notify.Enqueue(ctx, tx, notify.Message{CoachID: r.CoachID, ClientID: &r.ClientID, Cause: cause,
				Template: notify.MonthlySummary, Locale: r.Locale, To: r.ClientEmail, Data: data})
		}); err != nil {
			return err
		}
	}
	return nil
}

// summaryData reads a client's month (month is its first day, wall clock
// in tz) from the bookings and the ledger.
func summaryData(ctx context.Context, tx *sqlx.Tx, clientID int64, month time.Time, tz, locale, coach string, now time.Time) (map[string]any, error) {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	from := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, loc)
	var bookings []struct {
		StartsAt time.Time `db:"starts_at"`
		Outcome  string    `db:"outcome"`
		Fee      int64     `db:"fee_amount"`
		Currency string    `db:"currency"`
		Charged  int       `db:"charged"` // sessions taken, waivers given back
		Entries  int       `db:"entries"` // ledger entries of the booking
		Waived   bool      `db:"waived"`  // the coach gave it back
		Period   bool      `db:"period"`  // paid by a period pack
	}
	if err := tx.SelectContext(ctx, &bookings, `SELECT s.starts_at, b.outcome, b.fee_amount, co.currency,
		-coalesce((SELECT sum(e.delta) FROM ledger_entries e WHERE e.booking_id = b.id), 0) AS charged,
		(SELECT count(*) FROM ledger_entries e WHERE e.booking_id = b.id AND e.kind <> 'waiver') AS entries,
		EXISTS (SELECT 1 FROM ledger_entries e WHERE e.booking_id = b.id AND e.kind = 'waiver') AS waived,
		coalesce((SELECT p.kind = 'period' FROM packs p WHERE p.id = b.pack_id), false) AS period
		FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN coaches co ON co.id = b.coach_id
		WHERE b.client_id = $1 AND b.outcome IS NOT NULL AND s.starts_at >= $2 AND s.starts_at < $3
		ORDER BY s.starts_at, b.id`, clientID, from.UTC(), from.AddDate(0, 1, 0).UTC()); err != nil {
		return nil, err
	}
	t := func(id string, pairs ...any) string { return notify.Words.T(locale, id, pairs...) }
	counts := map[string]int{}
	var sessions [][2]string
	for _, b := range bookings {
		counts[b.Outcome]++
		cost := t("cost.free")
		switch {
		case b.Waived:
			cost = t("cost.waived")
		case b.Fee > 0:
			cost = t("cost.fee", "Amount", i18n.Money(b.Fee, b.Currency, locale))
		case b.Charged > 0:
			cost = t("cost.sessions", "Count", b.Charged)
		case b.Period && b.Entries > 0:
			cost = t("cost.included")
		}
		at := b.StartsAt.In(loc)
		sessions = append(sessions, [2]string{i18n.Day(at, locale) + " " + i18n.Clock(at, locale),
			t("outcome."+b.Outcome, "Coach", coach) + ", " + cost})
	}
	var balance []int
	if err := tx.SelectContext(ctx, &balance, `SELECT sessions_remaining FROM packs WHERE client_id = $1 AND kind = 'sessions'
		AND status IN `+StatusSQL(liveStatuses...)+` AND valid_until > $2`, clientID, now); err != nil {
		return nil, err
	}
	left := 0
	for _, n := range balance {
		left += n
	}
	return map[string]any{"Month": i18n.Month(from, locale), "Sessions": sessions,
		"Attended": counts[Attended], "Missed": counts[NoShow], "Cancelled": counts[Cancelled] + counts[LateCancelled],
		"CoachCancelled": counts[CoachCancelled], "HasBalance": len(balance) > 0, "Balance": left}, nil
}

// notifyConsultation tells a client, in their language, of a consultation
// given as goodwill: how long, what it is worth, and the session or incident
// it makes up for. Once per grant and client.
func notifyConsultation(ctx context.Context, tx *sqlx.Tx, coach auth.Coach, c Client, grantID int64, in GoodwillInput, made *madeUpFor) error {
	data := map[string]any{"ClientName": c.Name, "CoachName": coach.Name, "Minutes": in.Minutes, "Value": "",
		"Reason": in.Note, "SessionTitle": "", "SessionDate": "", "Incident": in.Incident}
	if in.ValueAmount > 0 {
		data["Value"] = i18n.Money(in.ValueAmount, coach.Currency, c.Locale)
	}
	if made != nil {
		loc, err := time.LoadLocation(coach.Timezone)
		if err != nil {
			loc = time.UTC
		}
		at := made.StartsAt.In(loc)
		data["SessionTitle"], data["SessionDate"] = made.Title, i18n.Day(at, c.Locale)+", "+i18n.Clock(at, c.Locale)
	}
	return notify.Enqueue(ctx, tx, notify.Message{CoachID: coach.ID, ClientID: &c.ID, Template: notify.GoodwillConsultation,
		Cause: fmt.Sprintf("goodwill:%d:client:%d", grantID, c.ID), Locale: c.Locale, To: c.Email, Data: data})
}
