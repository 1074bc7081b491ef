package reports

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/packs"
)

// read runs a report's queries in one read-only snapshot, so its totals
// and its rows agree even while bookings are being recorded. JIT is off:
// compiling these short queries costs more than running them.
func (s *Service) read(ctx context.Context, fn func(q sqlx.QueryerContext) error) error {
	tx, err := s.DB.BeginTxx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // read-only: nothing to keep
	if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
		return err
	}
	return fn(tx)
}

// attendanceFrom walks the month's sessions and, for each, its bookings
// by index (OFFSET 0 keeps the planner from hashing the whole bookings
// table instead: a month is a small part of it). A booking's charge is read
// from ledger_booking_charge_cover alone (00045): name no other column of ch.
const attendanceFrom = ` FROM sessions s CROSS JOIN LATERAL (SELECT b.id, b.client_id, b.outcome, b.client_confirmed_at FROM bookings b WHERE b.session_id = s.id
		AND ($4 = 0 OR b.client_id = $4) OFFSET 0) b
	JOIN clients c ON c.id = b.client_id
	LEFT JOIN ledger_entries ch ON ch.booking_id = b.id AND ch.kind IN ('attended', 'no_show', 'late_cancel')
	LEFT JOIN ledger_entries w ON w.booking_id = b.id AND w.kind = 'waiver'
	WHERE s.coach_id = $1 AND s.starts_at >= $2 AND s.starts_at < $3`

// attendance reads a month's bookings after the booking `after` (0: from
// the start), at most limit (0: all of them).
func (s *Service) attendance(ctx context.Context, q sqlx.QueryerContext, coachID int64, from, to time.Time, clientID, after int64, limit int) ([]AttendanceRow, error) {
	rows := []AttendanceRow{}
	err := s.eachAttendance(ctx, q, coachID, from, to, clientID, after, limit, func(r *AttendanceRow) error {
		rows = append(rows, *r)
		return nil
	})
	return rows, err
}

// eachAttendance hands the month's bookings to fn one at a time, in order,
// each in the same struct: a whole month's CSV is written as it is read,
// never held as a slice of rows.
func (s *Service) eachAttendance(ctx context.Context, q sqlx.QueryerContext, coachID int64, from, to time.Time, clientID, after int64, limit int, fn func(*AttendanceRow) error) error {
	// A whole month (the CSV, the printable sheet) reads only what those
	// show: for 20,000 bookings the API page's other fields (the pack's
	// kind a lookup each) cost a third of the time.
	pageOnly := `0::bigint, ''::text, NULL::bigint, NULL::text, NULL::timestamptz`
	if limit > 0 {
		pageOnly = `s.id, s.kind, ch.pack_id, (SELECT kind FROM packs WHERE id = ch.pack_id), w.created_at`
	}
	query := `SELECT b.id, s.starts_at, s.title, s.duration_minutes, b.client_id, c.name, b.outcome,
		ch.booking_id IS NOT NULL, coalesce(ch.value_amount, 0), w.id IS NOT NULL, coalesce(w.reason, ''),
		b.client_confirmed_at, ` + pageOnly + attendanceFrom + `
		AND ($5 = 0 OR (s.starts_at, b.id) > (SELECT s2.starts_at, b2.id FROM bookings b2
			JOIN sessions s2 ON s2.id = b2.session_id WHERE b2.coach_id = $1 AND b2.id = $5))
		ORDER BY s.starts_at, b.id`
	args := []any{coachID, from, to, clientID, after}
	if limit > 0 {
		query += ` LIMIT $6`
		args = append(args, limit)
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var r AttendanceRow
	var outcome, kind sql.Null[string]
	var packID sql.Null[int64]
	var waivedAt, confirmedAt sql.Null[time.Time]
	for rows.Next() {
		// Scanned by position, in the SELECT's order: matching 17 columns
		// to fields by name took a third of a month's CSV. The nullable
		// ones go through sql.Null, which database/sql fills directly,
		// where a pointer field costs a conversion by reflection each.
		r = AttendanceRow{}
		if err := rows.Scan(&r.BookingID, &r.StartsAt, &r.Title, &r.DurationMinutes, &r.ClientID, &r.ClientName,
			&outcome, &r.Charged, &r.FeeAmount, &r.Waived, &r.WaiverReason, &confirmedAt,
			&r.SessionID, &r.SessionKind, &packID, &kind, &waivedAt); err != nil {
			return err
		}
		r.Outcome, r.PackID, r.PackKind = orNil(outcome), orNil(packID), orNil(kind)
		r.WaivedAt, r.ClientConfirmedAt = orNil(waivedAt), orNil(confirmedAt)
		r.Cost = BookingCost(r.Charged, r.FeeAmount)
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

func (s *Service) attendanceTotals(ctx context.Context, q sqlx.QueryerContext, coachID int64, from, to time.Time, clientID int64) (AttendanceTotals, error) {
	var t AttendanceTotals
	err := sqlx.GetContext(ctx, q, &t, `SELECT count(*) AS bookings,
		count(*) FILTER (WHERE b.outcome = 'attended') AS attended, count(*) FILTER (WHERE b.outcome = 'no_show') AS no_shows,
		count(*) FILTER (WHERE b.outcome = 'cancelled') AS cancelled,
		count(*) FILTER (WHERE b.outcome = 'late_cancelled') AS late_cancelled,
		count(*) FILTER (WHERE b.outcome = 'coach_cancelled') AS coach_cancelled,
		count(*) FILTER (WHERE b.outcome IS NULL) AS not_recorded,
		count(ch.booking_id) FILTER (WHERE coalesce(ch.value_amount, 0) = 0) AS sessions_charged,
		coalesce(sum(ch.value_amount), 0) AS fees_charged, count(w.id) AS waived,
		count(b.client_confirmed_at) AS confirmed`+attendanceFrom, coachID, from, to, clientID)
	return t, err
}

// moneyRows is every payment of a coach in [$2, $3) that belongs to a
// client, as money in (received, by method: see Methods) and money back
// (refunded), read from payments_coach_money_idx alone (00041: the client is
// on the payment). Stripe reports a charge's refunds in one cumulative row
// that includes Carnet's own remedies, which have rows of their own: only
// what it reports beyond them counts again.
const moneyRows = `SELECT p.occurred_at, p.client_id,
	CASE WHEN p.kind = 'manual' THEN split_part(p.status, ':', 1) ELSE coalesce(p.method, 'unknown') END AS method,
	CASE WHEN p.kind IN ('charge', 'fee') AND p.status = 'succeeded' THEN p.amount
		WHEN p.kind = 'manual' THEN p.amount ELSE 0 END AS received,
	CASE WHEN p.kind = 'refund' AND p.status = 'remedy' THEN p.amount
		WHEN p.kind = 'refund' THEN greatest(0, p.amount - coalesce((SELECT sum(r.amount) FROM payments r
			WHERE r.kind = 'refund' AND r.status = 'remedy' AND r.stripe_charge_id = p.stripe_charge_id), 0))
		WHEN p.kind = 'dispute' AND p.status = 'lost' THEN p.amount ELSE 0 END AS refunded
	FROM payments p WHERE p.coach_id = $1 AND p.occurred_at >= $2 AND p.occurred_at < $3 AND p.currency = $4
		AND p.client_id IS NOT NULL`

func (s *Service) revenue(ctx context.Context, q sqlx.QueryerContext, coach auth.Coach, loc *time.Location, months []time.Time) ([]MonthMoney, error) {
	from, to := months[0], months[len(months)-1].AddDate(0, 1, 0)
	out := make([]MonthMoney, len(months))
	index := map[string]int{}
	for i, m := range months {
		out[i] = MonthMoney{Month: m.Format("2006-01"), ByMethod: map[string]int64{}}
		index[out[i].Month] = i
	}
	var money []struct {
		Month    string `db:"month"`
		Method   string `db:"method"`
		Received int64  `db:"received"`
		Refunded int64  `db:"refunded"`
	}
	if err := sqlx.SelectContext(ctx, q, &money, `SELECT to_char(occurred_at AT TIME ZONE $5, 'YYYY-MM') AS month, method,
		sum(received)::bigint AS received, sum(refunded)::bigint AS refunded FROM (`+moneyRows+`) x GROUP BY 1, 2`,
		coach.ID, from, to, coach.Currency, loc.String()); err != nil {
		return nil, err
	}
	for _, r := range money {
		m := &out[index[r.Month]]
		m.Received += r.Received
		m.Refunded += r.Refunded
		if r.Received != 0 {
			m.ByMethod[r.Method] += r.Received
		}
	}
	var earned []struct {
		Month  string `db:"month"`
		Amount int64  `db:"amount"`
	}
	if err := sqlx.SelectContext(ctx, q, &earned, `SELECT to_char(month, 'YYYY-MM') AS month, earned_sessions AS amount
		FROM (`+coachMonths+`) m`, coach.ID, day(from), day(to)); err != nil {
		return nil, err
	}
	for _, r := range earned {
		out[index[r.Month]].EarnedSessions = r.Amount
	}
	var periods []struct {
		Price int64      `db:"price_amount"`
		Start time.Time  `db:"activated_at"`
		End   time.Time  `db:"valid_until"`
		Stop  *time.Time `db:"stop"`
	}
	if err := sqlx.SelectContext(ctx, q, &periods, `SELECT price_amount, activated_at, valid_until,
		CASE WHEN status IN `+packs.StatusSQL(packs.StatusRefunded, packs.StatusCancelled)+` THEN updated_at END AS stop
		FROM packs WHERE coach_id = $1 AND kind = 'period' AND activated_at IS NOT NULL
			AND activated_at < $3 AND valid_until > $2`, coach.ID, from, to); err != nil {
		return nil, err
	}
	for _, p := range periods {
		var stop time.Time
		if p.Stop != nil {
			stop = *p.Stop
		}
		for i, m := range months {
			out[i].EarnedPeriod += packs.PeriodEarnedBy(p.Price, p.Start, p.End, stop, m.AddDate(0, 1, 0), loc) -
				packs.PeriodEarnedBy(p.Price, p.Start, p.End, stop, m, loc)
		}
	}
	for i := range out {
		out[i].Net = out[i].Received - out[i].Refunded
		out[i].Earned = out[i].EarnedSessions + out[i].EarnedPeriod
	}
	return out, nil
}

// Revenue is the twelve months ending with the month holding last, oldest
// first, and their totals.
func (s *Service) Revenue(ctx context.Context, coach auth.Coach, last time.Time) ([]time.Time, []MonthMoney, MonthMoney, error) {
	loc := Location(coach)
	months := Months(last, MonthsShown, loc)
	var rows []MonthMoney
	err := s.read(ctx, func(q sqlx.QueryerContext) (err error) {
		rows, err = s.revenue(ctx, q, coach, loc, months)
		return err
	})
	tot := MonthMoney{Month: "total", ByMethod: map[string]int64{}}
	for _, r := range rows {
		tot.Received += r.Received
		tot.Refunded += r.Refunded
		tot.Net += r.Net
		tot.EarnedSessions += r.EarnedSessions
		tot.EarnedPeriod += r.EarnedPeriod
		tot.Earned += r.Earned
		for m, n := range r.ByMethod {
			tot.ByMethod[m] += n
		}
	}
	return months, rows, tot, err
}

// AttendanceSheet is a month's every booking (one client's when clientID
// is not 0) and the month's totals. Its rows carry what the sheet shows:
// no session id or kind, pack, or waiver time (see eachAttendance).
func (s *Service) AttendanceSheet(ctx context.Context, coach auth.Coach, month time.Time, clientID int64) ([]AttendanceRow, AttendanceTotals, error) {
	var rows []AttendanceRow
	var totals AttendanceTotals
	err := s.read(ctx, func(q sqlx.QueryerContext) (err error) {
		if rows, err = s.attendance(ctx, q, coach.ID, month, month.AddDate(0, 1, 0), clientID, 0, 0); err != nil {
			return err
		}
		totals, err = s.attendanceTotals(ctx, q, coach.ID, month, month.AddDate(0, 1, 0), clientID)
		return err
	})
	return rows, totals, err
}

// livePacks are a coach's packs that still owe service at now.
var livePacks = `SELECT p.client_id, p.id AS pack_id, p.kind, p.price_amount, p.sessions_credited,
	p.sessions_remaining, p.activated_at, p.valid_until FROM packs p
	WHERE p.coach_id = $1 AND p.status IN ` + packs.StatusSQL(packs.StatusActive, packs.StatusOverdue, packs.StatusExhausted) + ` AND p.activated_at IS NOT NULL
		AND p.valid_until > $2 AND p.currency = $3 AND (p.kind = 'period' OR p.sessions_remaining > 0)`

// owedPacks reads the live packs of the clients after client `after`, at
// most limit clients (0: all), in client order.
func (s *Service) owedPacks(ctx context.Context, q sqlx.QueryerContext, coach auth.Coach, loc *time.Location, now time.Time, after int64, limit int) ([]OwedPack, error) {
	if limit <= 0 {
		limit = 1 << 30
	}
	var rows []OwedPack
	if err := sqlx.SelectContext(ctx, q, &rows, `WITH live AS (`+livePacks+`),
		page AS (SELECT DISTINCT client_id FROM live WHERE client_id > $4 ORDER BY client_id LIMIT $5)
		SELECT live.*, c.name AS client_name FROM live JOIN page USING (client_id) JOIN clients c ON c.id = live.client_id
		ORDER BY live.client_id, live.pack_id`, coach.ID, now, coach.Currency, after, limit); err != nil {
		return nil, err
	}
	for i := range rows {
		rows[i].value(now, loc)
	}
	return rows, nil
}

// owedTotals adds up sessions packs in the database (the schema's
// report_earned is EarnedSessions) and period packs, far fewer, here.
func (s *Service) owedTotals(ctx context.Context, q sqlx.QueryerContext, coach auth.Coach, loc *time.Location, now time.Time) (OwedTotal, OwedTotal, error) {
	var t struct {
		All  OwedTotal `db:"all"`
		Soon OwedTotal `db:"soon"`
	}
	if err := sqlx.GetContext(ctx, q, &t, `WITH live AS (`+livePacks+` AND p.kind = 'sessions')
		SELECT coalesce(sum(sessions_remaining), 0) AS "all.sessions",
			coalesce(sum(price_amount - report_earned(price_amount, sessions_credited, sessions_remaining)), 0) AS "all.value",
			count(*) AS "all.packs",
			coalesce(sum(sessions_remaining) FILTER (WHERE valid_until <= $4), 0) AS "soon.sessions",
			coalesce(sum(price_amount - report_earned(price_amount, sessions_credited, sessions_remaining))
				FILTER (WHERE valid_until <= $4), 0) AS "soon.value",
			count(*) FILTER (WHERE valid_until <= $4) AS "soon.packs" FROM live`,
		coach.ID, now, coach.Currency, now.AddDate(0, 0, 30)); err != nil {
		return t.All, t.Soon, err
	}
	var period []OwedPack
	if err := sqlx.SelectContext(ctx, q, &period, livePacks+` AND p.kind = 'period'`, coach.ID, now, coach.Currency); err != nil {
		return t.All, t.Soon, err
	}
	for _, p := range period {
		p.value(now, loc)
		t.All.Value, t.All.Packs = t.All.Value+p.Value, t.All.Packs+1
		if p.Expiring {
			t.Soon.Value, t.Soon.Packs = t.Soon.Value+p.Value, t.Soon.Packs+1
		}
	}
	return t.All, t.Soon, nil
}

func (s *Service) clientMoney(ctx context.Context, q sqlx.QueryerContext, coach auth.Coach, from, to time.Time) ([]Share, error) {
	var rows []Share
	// Added up per client first, then named: one name per client, not per payment.
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT m.client_id, c.name, m.amount FROM (SELECT client_id,
			sum(received - refunded)::bigint AS amount FROM (`+moneyRows+`) x GROUP BY 1) m
		JOIN clients c ON c.id = m.client_id`, coach.ID, from, to, coach.Currency)
	return rows, err
}

// threshold is the coach's reliability threshold (3 until set).
// Threshold is the coach's reliability threshold (DefaultThreshold unless set).
func (s *Service) Threshold(ctx context.Context, q sqlx.QueryerContext, coachID int64) (int, error) {
	var n int
	err := sqlx.GetContext(ctx, q, &n, `SELECT reliability_threshold FROM report_settings WHERE coach_id = $1`, coachID)
	if db.NoRows(err) {
		return DefaultThreshold, nil
	}
	return n, err
}

// SetThreshold sets the number of incidents in a period that flags a
// client in the reliability report.
func (s *Service) SetThreshold(ctx context.Context, coachID int64, n int) (Settings, error) {
	if n < 1 || n > 1000 {
		return Settings{}, errs.Field("reliability_threshold", "must be a whole number from 1 to 1000")
	}
	_, err := s.DB.ExecContext(ctx, `INSERT INTO report_settings (coach_id, reliability_threshold, updated_at)
		VALUES ($1, $2, $3) ON CONFLICT (coach_id) DO UPDATE SET reliability_threshold = excluded.reliability_threshold,
		updated_at = excluded.updated_at`, coachID, n, s.Now().UTC())
	return Settings{ReliabilityThreshold: n}, err
}

func (s *Service) reliability(ctx context.Context, q sqlx.QueryerContext, coachID int64, p Period) ([]Reliability, error) {
	rows := []Reliability{}
	err := sqlx.SelectContext(ctx, q, &rows, `WITH m AS (SELECT client_id, sum(late_cancelled) AS late_cancelled,
			sum(no_shows) AS no_shows, sum(waived) AS waived FROM report_client_months
			WHERE coach_id = $1 AND month >= $2 AND month < $3 AND late_cancelled + no_shows + waived > 0
			GROUP BY client_id),
		f AS (SELECT pk.client_id, count(*) AS n FROM payments p JOIN packs pk ON pk.id = p.pack_id
			WHERE p.coach_id = $1 AND p.kind = 'charge' AND p.status = 'failed'
				AND p.occurred_at >= $4 AND p.occurred_at < $5 GROUP BY 1),
		l AS (SELECT pk.client_id, count(*) AS n FROM installments i JOIN packs pk ON pk.id = i.pack_id
			LEFT JOIN charter_versions cv ON cv.id = pk.charter_version_id
			WHERE i.coach_id = $1 AND i.due_at >= $4 AND i.due_at < $5
				AND coalesce(i.paid_at, CASE WHEN i.status IN ('due', 'failed') THEN $6::timestamptz END)
					> i.due_at + make_interval(days => coalesce(cv.grace_days, $7))
			GROUP BY 1)
		SELECT c.id AS client_id, c.name, coalesce(m.late_cancelled, 0) AS late_cancelled,
			coalesce(m.no_shows, 0) AS no_shows, coalesce(m.waived, 0) AS waived,
			coalesce(f.n, 0) AS failed_payments, coalesce(l.n, 0) AS late_payments
		FROM (SELECT client_id FROM m UNION SELECT client_id FROM f UNION SELECT client_id FROM l) k
		JOIN clients c ON c.coach_id = $1 AND c.id = k.client_id
		LEFT JOIN m ON m.client_id = k.client_id LEFT JOIN f ON f.client_id = k.client_id
		LEFT JOIN l ON l.client_id = k.client_id
		WHERE coalesce(m.late_cancelled, 0) + coalesce(m.no_shows, 0) + coalesce(m.waived, 0)
			+ coalesce(f.n, 0) + coalesce(l.n, 0) > 0`,
		coachID, day(p.From), day(p.To), p.From, p.To, s.Now().UTC(), packs.DefaultCharter.GraceDays)
	return rows, err
}

func (s *Service) coachCancellations(ctx context.Context, q sqlx.QueryerContext, coachID int64, p Period) ([]CancellationMonth, []AfterCoach, error) {
	months := []CancellationMonth{}
	if err := sqlx.SelectContext(ctx, q, &months, `SELECT to_char(month, 'YYYY-MM') AS month, bookings, coach_cancelled
		FROM (`+coachMonths+`) m WHERE bookings <> 0 OR coach_cancelled <> 0 ORDER BY 1`,
		coachID, day(p.From), day(p.To)); err != nil {
		return nil, nil, err
	}
	clients := []AfterCoach{}
	// Every client's months of the period in one pass over the covering
	// index (00041), kept when they booked right after a coach's
	// cancellation: a second look-up per client cost more than the pass
	// itself when most clients have one. Names only for those kept.
	if err := sqlx.SelectContext(ctx, q, &clients, `SELECT r.*, c.name FROM (SELECT client_id,
			sum(after_coach_cancel) AS after_coach_cancel, sum(cancelled_after_coach) AS cancelled_after_coach,
			sum(attended + no_shows + cancelled + late_cancelled) AS client_bookings,
			sum(cancelled + late_cancelled) AS client_cancelled
			FROM report_client_months WHERE coach_id = $1 AND month >= $2 AND month < $3
			GROUP BY client_id HAVING sum(after_coach_cancel) > 0) r
		JOIN clients c ON c.id = r.client_id
		ORDER BY 1`, coachID, day(p.From), day(p.To)); err != nil {
		return nil, nil, err
	}
	return months, clients, nil
}

func (s *Service) dueInstallments(ctx context.Context, q sqlx.QueryerContext, coachID int64, until time.Time) ([]DueInstallment, error) {
	rows := []DueInstallment{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT i.id, i.pack_id, pk.client_id, c.name AS client_name, i.seq, i.due_at,
		i.amount, i.currency, i.status FROM installments i JOIN packs pk ON pk.id = i.pack_id
		JOIN clients c ON c.id = pk.client_id
		WHERE i.coach_id = $1 AND i.status IN ('due', 'failed') AND i.due_at < $2
			AND pk.status NOT IN `+packs.StatusSQL(packs.StatusPending, packs.StatusCancelled, packs.StatusRefunded)+`
		ORDER BY i.due_at, i.id`, coachID, until)
	return rows, err
}

func (s *Service) heldAnomalies(ctx context.Context, q sqlx.QueryerContext, coachID int64) ([]HeldAnomaly, error) {
	rows := []HeldAnomaly{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT id, kind, client_id, excess_amount, currency FROM anomalies
		WHERE coach_id = $1 AND state = 'open' AND excess_amount > 0 ORDER BY id`, coachID)
	return rows, err
}

func (s *Service) grants(ctx context.Context, q sqlx.QueryerContext, coachID int64, p Period) ([]GrantRow, error) {
	rows := []GrantRow{}
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT g.id, g.session_id, s.title AS session_title, s.starts_at AS session_starts_at,
		g.incident, g.item, g.sessions, g.minutes, g.value_amount, g.note, g.created_at,
		count(l.id) AS clients, array_remove(array_agg(DISTINCT l.client_id), NULL) AS client_ids,
		coalesce(sum(l.value_amount), 0)::bigint AS value_given
		FROM goodwill_grants g LEFT JOIN sessions s ON s.id = g.session_id
		LEFT JOIN ledger_entries l ON l.goodwill_grant_id = g.id
		WHERE g.coach_id = $1 AND g.created_at >= $2 AND g.created_at < $3
		GROUP BY g.id, s.id ORDER BY g.created_at, g.id`, coachID, p.From, p.To)
	return rows, err
}

// orNil is a scanned nullable value as a pointer, nil for NULL.
func orNil[T any](n sql.Null[T]) *T {
	if !n.Valid {
		return nil
	}
	return &n.V
}

// Owed is what the coach owes in service at now: the totals, and the page
// of clients after page.After.
func (s *Service) Owed(ctx context.Context, coach auth.Coach, now time.Time, page api.Page) (OwedReport, error) {
	var r OwedReport
	loc := Location(coach)
	var packs []OwedPack
	err := s.read(ctx, func(q sqlx.QueryerContext) (err error) {
		if packs, err = s.owedPacks(ctx, q, coach, loc, now, page.After, page.Limit+1); err != nil {
			return err
		}
		r.Total, r.Expiring, err = s.owedTotals(ctx, q, coach, loc, now)
		return err
	})
	list := api.NewList(ByClient(packs), page.Limit, func(c OwedClient) int64 { return c.ClientID })
	r.Clients, r.NextCursor = list.Data, list.NextCursor
	return r, err
}

// Concentration is each paying client's share of the twelve months ending
// with last.
func (s *Service) Concentration(ctx context.Context, coach auth.Coach, last time.Time) (ConcentrationReport, error) {
	r := ConcentrationReport{Months: Months(last, MonthsShown, Location(coach))}
	from, to := r.Months[0], r.Months[len(r.Months)-1].AddDate(0, 1, 0)
	var rows []Share
	err := s.read(ctx, func(q sqlx.QueryerContext) (err error) {
		rows, err = s.clientMoney(ctx, q, coach, from, to)
		return err
	})
	r.Shares, r.Total = Concentrate(rows)
	for _, sh := range r.Shares {
		if sh.Flagged {
			r.Flagged++
		}
	}
	return r, err
}

// ReliabilityOf is every client's record over p, judged against the
// coach's threshold, the least reliable first.
func (s *Service) ReliabilityOf(ctx context.Context, coachID int64, p Period) (ReliabilityReport, error) {
	r := ReliabilityReport{Period: p}
	var rows []Reliability
	err := s.read(ctx, func(q sqlx.QueryerContext) (err error) {
		if r.Threshold, err = s.Threshold(ctx, q, coachID); err != nil {
			return err
		}
		rows, err = s.reliability(ctx, q, coachID, p)
		return err
	})
	r.Clients = Judge(rows, r.Threshold)
	for _, c := range r.Clients {
		if c.Flagged {
			r.Flagged++
		}
	}
	return r, err
}

// CoachCancellations is the coach's own cancellations over p, and how
// clients cancel after them.
func (s *Service) CoachCancellations(ctx context.Context, coachID int64, p Period) (CancellationsReport, error) {
	var months []CancellationMonth
	var clients []AfterCoach
	err := s.read(ctx, func(q sqlx.QueryerContext) (err error) {
		months, clients, err = s.coachCancellations(ctx, q, coachID, p)
		return err
	})
	return Cancellations(p, months, clients), err
}

// PaymentsDue is what is expected in the 30 days after now, what is
// overdue or failed, and what open anomalies hold.
func (s *Service) PaymentsDue(ctx context.Context, coachID int64, now time.Time) (DueReport, error) {
	var rows []DueInstallment
	var held []HeldAnomaly
	err := s.read(ctx, func(q sqlx.QueryerContext) (err error) {
		if rows, err = s.dueInstallments(ctx, q, coachID, now.AddDate(0, 0, 30)); err != nil {
			return err
		}
		held, err = s.heldAnomalies(ctx, q, coachID)
		return err
	})
	return SortDue(rows, held, now), err
}

// IncidentsOf is what the coach gave to make up for incidents over p.
func (s *Service) IncidentsOf(ctx context.Context, coachID int64, p Period) (IncidentsReport, error) {
	var grants []GrantRow
	err := s.read(ctx, func(q sqlx.QueryerContext) (err error) {
		grants, err = s.grants(ctx, q, coachID, p)
		return err
	})
	return CostOf(p, grants), err
}
