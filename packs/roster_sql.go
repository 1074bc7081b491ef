package packs

import (
	"context"
)

// ClientList is the coach's client list: one query over the coach's rows,
// balances computed from the usable packs (active, or overdue within
// grace is still shown as overdue), the next installment due and whether an
// anomaly is open.
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
	if err := s.DB.GetContext(ctx, &page.Total, `SELECT count(*) FROM clients WHERE coach_id = $1
		AND ($2 = '' OR name ILIKE $2 OR email ILIKE $2)`, coachID, search); err != nil {
		return page, err
	}
	err := s.DB.SelectContext(ctx, &page.Lines, `WITH c AS (
		  SELECT id, name, email FROM clients WHERE coach_id = $1 AND ($2 = '' OR name ILIKE $2 OR email ILIKE $2)
		), p AS (
		  SELECT client_id,
		    sum(sessions_remaining) FILTER (WHERE kind = 'sessions')::int AS sessions_left,
		    max(valid_until) FILTER (WHERE kind = 'period') AS period_until,
		    min(weekly_cap) FILTER (WHERE kind = 'period') AS weekly_cap,
		    min(valid_until) AS valid_until,
		    bool_or(status = 'overdue') AS overdue,
		    array_agg(id) FILTER (WHERE kind = 'period') AS period_ids
		  FROM packs WHERE coach_id = $1 AND status IN ('active', 'overdue') AND valid_until > $3
		  GROUP BY client_id
		), i AS (
		  SELECT DISTINCT ON (client_id) pk.client_id, i.due_at, i.amount, i.currency
		  FROM installments i JOIN packs pk ON pk.id = i.pack_id
		  WHERE i.coach_id = $1 AND i.status IN ('due', 'failed') AND pk.status NOT IN ('cancelled', 'refunded')
		  ORDER BY client_id, i.due_at
		)
		SELECT c.id, c.name, c.email, p.sessions_left, p.period_until, p.weekly_cap, p.valid_until,
		  coalesce(p.overdue, false) AS overdue,
		  i.due_at AS next_due, i.amount AS next_amount, i.currency AS next_currency,
		  EXISTS (SELECT 1 FROM anomalies a WHERE a.coach_id = $1 AND a.client_id = c.id AND a.state = 'open') AS open_anomaly,
		  coalesce((SELECT count(*) FROM ledger_entries e JOIN bookings b ON b.id = e.booking_id
		    JOIN sessions se ON se.id = b.session_id JOIN coaches co ON co.id = se.coach_id
		    WHERE e.pack_id = ANY(p.period_ids) AND e.kind IN ('attended', 'no_show', 'late_cancel')
		      AND date_trunc('week', se.starts_at AT TIME ZONE co.timezone) = date_trunc('week', $3::timestamptz AT TIME ZONE co.timezone)
		  ), 0)::int AS period_week
		FROM c LEFT JOIN p ON p.client_id = c.id LEFT JOIN i ON i.client_id = c.id
		ORDER BY `+clientOrders[q.Sort]+` LIMIT $4 OFFSET $5`,
		coachID, search, now, q.PerPage, (q.Page-1)*q.PerPage)
	return page, err
}
