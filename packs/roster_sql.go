package packs

import (
	"context"
)

// The client list's SQL. A line's balance comes from the client's usable
// packs (active or overdue, not past their end), its next installment from
// the earliest one still due or failed, its markers from open anomalies and,
// for period packs, the sessions counted in the coach's current week.
const (
	usablePacks = `FROM packs WHERE coach_id = $1 AND status IN ('active', 'overdue') AND valid_until > $3`
	packsAgg    = `SELECT client_id,
		    sum(sessions_remaining) FILTER (WHERE kind = 'sessions')::int AS sessions_left,
		    max(valid_until) FILTER (WHERE kind = 'period') AS period_until,
		    min(weekly_cap) FILTER (WHERE kind = 'period') AS weekly_cap,
		    min(valid_until) AS valid_until,
		    bool_or(status = 'overdue') AS overdue,
		    array_agg(id) FILTER (WHERE kind = 'period') AS period_ids
		  ` + usablePacks
	// pk.coach_id lets the packs index find a client's packs; without it
	// PostgreSQL walked every pack of the coach for each line.
	openInstallments = `FROM installments i JOIN packs pk ON pk.coach_id = i.coach_id AND pk.id = i.pack_id
		  WHERE i.coach_id = $1 AND i.status IN ('due', 'failed') AND pk.status NOT IN ('cancelled', 'refunded')`
	lineCols = `pg.ord, c.id, c.name, c.email, p.sessions_left, p.period_until, p.weekly_cap, p.valid_until,
		  coalesce(p.overdue, false) AS overdue, p.period_ids,
		  i.due_at AS next_due, i.amount AS next_amount, i.currency AS next_currency`
	lineExtras = `EXISTS (SELECT 1 FROM anomalies a WHERE a.coach_id = $1 AND a.client_id = l.id AND a.state = 'open') AS open_anomaly,
		  CASE WHEN l.period_ids IS NULL THEN 0 ELSE (SELECT count(*) FROM ledger_entries e JOIN bookings b ON b.id = e.booking_id
		    JOIN sessions se ON se.id = b.session_id JOIN coaches co ON co.id = se.coach_id
		    WHERE e.pack_id = ANY(l.period_ids) AND e.kind IN ('attended', 'no_show', 'late_cancel')
		      AND date_trunc('week', se.starts_at AT TIME ZONE co.timezone) = date_trunc('week', $3::timestamptz AT TIME ZONE co.timezone)
		  )::int END AS period_week`
	// allClients and searchCond are the list's filter, without and with a
	// search ($2: '' or the pattern). Two texts, not one with "$2 = '' OR":
	// statements stay prepared per connection, and a generic plan of that OR
	// could not use the trigram indexes (migration 00038) that serve ILIKE.
	allClients = `c.coach_id = $1 AND $2::text = ''`
	searchCond = `c.coach_id = $1 AND (c.name ILIKE $2 OR c.email ILIKE $2)`
)

// sortKeys are, for each order but the name, the one value per client it
// sorts on: computed for every client, but only that value, so the sort is
// over numbers and times (the name's place comes from an index, as a rank).
var sortKeys = map[string]string{
	"balance":     `SELECT client_id, sum(sessions_remaining) FILTER (WHERE kind = 'sessions')::int AS k ` + usablePacks + ` GROUP BY client_id`,
	"valid_until": `SELECT client_id, min(valid_until) AS k ` + usablePacks + ` GROUP BY client_id`,
	"next_due":    `SELECT pk.client_id, min(i.due_at) AS k ` + openInstallments + ` GROUP BY pk.client_id`,
}

// ClientList is one page of the coach's client list, in one statement: the
// page's clients are chosen first (by name, straight from the name index; by
// another order, from one sort key per client and the name's rank), then only
// those lines are computed.
func (s *Service) ClientList(ctx context.Context, coachID int64, q ClientQuery) (ClientPage, error) {
	if err := q.normalize(); err != nil {
		return ClientPage{}, err
	}
	page := ClientPage{Query: q, Lines: []ClientLine{}}
	now := s.Now().UTC()
	search, cond := "", allClients
	if q.Search != "" {
		search, cond = likePattern(q.Search), searchCond
	}
	if err := s.DB.GetContext(ctx, &page.Total, `SELECT count(*) FROM clients c WHERE `+cond,
		coachID, search); err != nil {
		return page, err
	}
	chosen := `SELECT id, row_number() OVER (ORDER BY lower(name), id) AS ord FROM (SELECT id, name FROM clients c
		WHERE ` + cond + ` ORDER BY lower(name), id LIMIT $4 OFFSET $5) x`
	if key, ok := sortKeys[q.Sort]; ok {
		chosen = `SELECT n.id, row_number() OVER (ORDER BY k.k ` + nullsAt(q.Sort) + `, n.rank) AS ord
			FROM (SELECT id, row_number() OVER (ORDER BY lower(name), id) AS rank FROM clients c WHERE ` + cond + `) n
			LEFT JOIN (` + key + `) k ON k.client_id = n.id ORDER BY ord LIMIT $4 OFFSET $5`
	}
	var rows []struct {
		ClientLine
		Ord       int64 `db:"ord"`
		PeriodIDs any   `db:"period_ids"`
	}
	err := s.DB.SelectContext(ctx, &rows, `WITH pg AS (`+chosen+`), l AS (SELECT `+lineCols+` FROM pg
			JOIN clients c ON c.coach_id = $1 AND c.id = pg.id
			LEFT JOIN LATERAL (`+packsAgg+` AND client_id = c.id GROUP BY client_id) p ON true
			LEFT JOIN LATERAL (SELECT i.due_at, i.amount, i.currency `+openInstallments+` AND pk.client_id = c.id
			  ORDER BY i.due_at LIMIT 1) i ON true)
		SELECT l.*, `+lineExtras+` FROM l ORDER BY l.ord`,
		coachID, search, now, q.PerPage, (q.Page-1)*q.PerPage)
	for _, r := range rows {
		page.Lines = append(page.Lines, r.ClientLine)
	}
	return page, err
}
