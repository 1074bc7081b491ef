package packs

import (
	"context"
	"strings"
)

// The client list's SQL. A line's balance comes from the client's usable
// packs (active or overdue, not past their end), its next installment from
// the earliest one still due or failed, its markers from open anomalies and,
// for period packs, the sessions counted in the coach's current week.
const (
	packsAgg = `SELECT client_id,
		    sum(sessions_remaining) FILTER (WHERE kind = 'sessions')::int AS sessions_left,
		    max(valid_until) FILTER (WHERE kind = 'period') AS period_until,
		    min(weekly_cap) FILTER (WHERE kind = 'period') AS weekly_cap,
		    min(valid_until) AS valid_until,
		    bool_or(status = 'overdue') AS overdue,
		    array_agg(id) FILTER (WHERE kind = 'period') AS period_ids
		  FROM packs WHERE coach_id = $1 AND status IN ('active', 'overdue') AND valid_until > $3`
	nextDue = `SELECT pk.client_id, i.due_at, i.amount, i.currency
		  FROM installments i JOIN packs pk ON pk.id = i.pack_id
		  WHERE i.coach_id = $1 AND i.status IN ('due', 'failed') AND pk.status NOT IN ('cancelled', 'refunded')`
	lineCols = `c.id, c.name, c.email, p.sessions_left, p.period_until, p.weekly_cap, p.valid_until,
		  coalesce(p.overdue, false) AS overdue, p.period_ids,
		  i.due_at AS next_due, i.amount AS next_amount, i.currency AS next_currency`
	lineExtras = `EXISTS (SELECT 1 FROM anomalies a WHERE a.coach_id = $1 AND a.client_id = l.id AND a.state = 'open') AS open_anomaly,
		  CASE WHEN l.period_ids IS NULL THEN 0 ELSE (SELECT count(*) FROM ledger_entries e JOIN bookings b ON b.id = e.booking_id
		    JOIN sessions se ON se.id = b.session_id JOIN coaches co ON co.id = se.coach_id
		    WHERE e.pack_id = ANY(l.period_ids) AND e.kind IN ('attended', 'no_show', 'late_cancel')
		      AND date_trunc('week', se.starts_at AT TIME ZONE co.timezone) = date_trunc('week', $3::timestamptz AT TIME ZONE co.timezone)
		  )::int END AS period_week`
	searchCond = `c.coach_id = $1 AND ($2 = '' OR c.name ILIKE $2 OR c.email ILIKE $2)`
)

// ClientList is one page of the coach's client list. By name, the page of
// clients is chosen first (an index gives it) and only its lines are
// computed; by any other order, every client's line must be known to sort,
// so the packs and installments are aggregated once for the whole list.
func (s *Service) ClientList(ctx context.Context, coachID int64, q ClientQuery) (ClientPage, error) {
	if err := q.normalize(); err != nil {
		return ClientPage{}, err
	}
	page := ClientPage{Query: q, Lines: []ClientLine{}}
	now := s.Now().UTC()
	search := ""
	if q.Search != "" {
		search = likePattern(q.Search)
	}
	if err := s.DB.GetContext(ctx, &page.Total, `SELECT count(*) FROM clients c WHERE `+searchCond,
		coachID, search); err != nil {
		return page, err
	}
	order := clientOrders[q.Sort]
	var base string
	if q.Sort == "name" {
		base = `SELECT ` + lineCols + ` FROM (SELECT id, name, email FROM clients c WHERE ` + searchCond + `
			ORDER BY lower(name), id LIMIT $4 OFFSET $5) c
			LEFT JOIN LATERAL (` + packsAgg + ` AND client_id = c.id GROUP BY client_id) p ON true
			LEFT JOIN LATERAL (` + nextDue + ` AND pk.client_id = c.id ORDER BY i.due_at LIMIT 1) i ON true`
	} else {
		base = `SELECT ` + lineCols + ` FROM clients c
			LEFT JOIN (` + packsAgg + ` GROUP BY client_id) p ON p.client_id = c.id
			LEFT JOIN (SELECT DISTINCT ON (client_id) * FROM (` + nextDue + `) n ORDER BY client_id, due_at) i ON i.client_id = c.id
			WHERE ` + searchCond + ` ORDER BY ` + qualify(order) + ` LIMIT $4 OFFSET $5`
	}
	var rows []struct {
		ClientLine
		PeriodIDs any `db:"period_ids"`
	}
	err := s.DB.SelectContext(ctx, &rows, `WITH l AS (`+base+`) SELECT l.*, `+lineExtras+` FROM l ORDER BY `+order,
		coachID, search, now, q.PerPage, (q.Page-1)*q.PerPage)
	for _, r := range rows {
		page.Lines = append(page.Lines, r.ClientLine)
	}
	return page, err
}

// qualify names the list's sort columns by the table they come from.
func qualify(order string) string {
	r := strings.NewReplacer("lower(name)", "lower(c.name)", "sessions_left", "p.sessions_left",
		"valid_until", "p.valid_until", "next_due", "i.due_at", ", id", ", c.id")
	return r.Replace(order)
}
