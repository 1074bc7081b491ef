package packs

import (
	"carnet/internal/api"
	"carnet/internal/db"
	"carnet/internal/errs"
	"context"
	"math"
	"time"

	"github.com/lib/pq"
)

// ClientBalance lists a client's packs, newest first, with what is left.
func (s *Service) ClientBalance(ctx context.Context, coachID, clientID int64) (Balance, error) {
	if _, err := s.Client(ctx, coachID, clientID); err != nil {
		return Balance{}, err
	}
	b := Balance{ClientID: clientID, Packs: []PackBalance{}}
	now := s.Now().UTC()
	// One statement whatever the number of packs: the next installment
	// comes with each pack, the week's count only for a live period pack.
	var packs []struct {
		Pack
		Week        int        `db:"week_count"`
		NextSeq     *int       `db:"next_seq"`
		NextDue     *time.Time `db:"next_due_at"`
		NextAmount  *int64     `db:"next_amount"`
		NextCurency *string    `db:"next_currency"`
	}
	if err := db.Q(ctx, s.DB).SelectContext(ctx, &packs, `SELECT `+db.Columns[Pack]("p")+`,
		CASE WHEN p.kind = 'period' AND p.status = ANY($4) THEN `+weekCount("$3")+` ELSE 0 END AS week_count,
		i.seq AS next_seq, i.due_at AS next_due_at, i.amount AS next_amount, i.currency AS next_currency
		FROM packs p JOIN coaches c ON c.id = p.coach_id
		LEFT JOIN LATERAL (SELECT seq, due_at, amount, currency FROM installments
			WHERE pack_id = p.id AND status IN ('due', 'failed') ORDER BY seq LIMIT 1) i ON true
		WHERE p.coach_id = $1 AND p.client_id = $2
		ORDER BY p.id DESC`, coachID, clientID, now, pq.Array(statusList(liveStatuses...))); err != nil {
		return b, err
	}
	for _, row := range packs {
		p := row.Pack
		pb := PackBalance{Pack: p}
		live := p.Status.Live()
		if live && p.ValidUntil != nil && !now.Before(*p.ValidUntil) {
			until := p.ValidUntil.Add(ExpiryGrace)
			pb.Ended, pb.MarkableUntil = true, &until
		}
		if p.Kind == KindPeriod && live && p.ValidUntil != nil {
			days := DaysLeft(p.ValidUntil, now)
			pb.DaysLeft, pb.SessionsThisWeek = &days, &row.Week
		}
		if row.NextSeq != nil {
			pb.NextInstallment = &Installment{Seq: *row.NextSeq, DueAt: *row.NextDue, Amount: *row.NextAmount,
				Currency: *row.NextCurency}
		}
		if p.Kind == KindSessions && (p.Status == StatusActive || p.Status == StatusOverdue) &&
			p.ValidUntil != nil && now.Before(*p.ValidUntil) {
			b.SessionsRemaining += p.SessionsRemaining
		}
		b.Packs = append(b.Packs, pb)
	}
	return b, nil
}

// Roster is every client's balance, sorted by name, sessions_remaining or
// next_expiry (clients with no live pack last). Its cursor is a position in
// that order.
func (s *Service) Roster(ctx context.Context, coachID int64, sort, cursor string, limit int) (api.List[RosterRow], error) {
	if sort == "" {
		sort = "name"
	}
	query, ok := rosterQueries[sort]
	if !ok {
		return api.List[RosterRow]{}, errs.Field("sort", "must be name, sessions_remaining or next_expiry")
	}
	// Before the first row: an empty name sorts first, with any id.
	after := rosterCursor{Sessions: math.MinInt32, ClientID: 0, Sort: sort}
	if cursor != "" {
		var err error
		if after, err = decodeRosterCursor(cursor, sort); err != nil {
			return api.List[RosterRow]{}, err
		}
	}
	expiry := after.Expiry
	if cursor == "" && sort == "next_expiry" {
		epoch := time.Time{}
		expiry = &epoch
	}
	args := []any{coachID, s.Now().UTC(), after.Name, after.ClientID, limit + 1}
	switch sort {
	case "sessions_remaining":
		args = append(args, after.Sessions)
	case "next_expiry":
		args = append(args, expiry)
	}
	var rows []RosterRow
	err := db.Q(ctx, s.DB).SelectContext(ctx, &rows, query, args...)
	list := api.List[RosterRow]{Data: rows}
	if list.Data == nil {
		list.Data = []RosterRow{}
	}
	if len(rows) > limit {
		last := rows[limit-1]
		list.Data = rows[:limit]
		list.NextCursor = encodeRosterCursor(rosterCursor{Name: last.Name, Sessions: last.SessionsRemaining,
			Expiry: last.NextExpiry, ClientID: last.ClientID, Sort: sort})
	}
	return list, err
}

// rosterLine aggregates one client's live packs at $2.
const rosterLine = `SELECT coalesce(sum(p.sessions_remaining) FILTER (WHERE p.kind = 'sessions'), 0)::int AS sessions_remaining,
		  count(p.id)::int AS active_packs, min(p.valid_until) AS next_expiry
		FROM packs p WHERE p.client_id = c.id AND p.coach_id = c.coach_id
		  AND p.status IN ('active', 'overdue') AND p.valid_until > $2`

// rosterCols are a RosterRow's columns.
const rosterCols = "client_id, name, email, sessions_remaining, active_packs, next_expiry"

// rosterQueries: by name, a page of clients is read by the index on
// (coach_id, name, id) and only its lines are added up; the other orders
// sort on the sums, so they add up every client first. Both page by keyset
// (rows after the cursor's), so the last page costs what the first does.
var rosterQueries = map[string]string{
	"name": `SELECT c.id AS client_id, c.name, c.email, r.* FROM clients c CROSS JOIN LATERAL (` + rosterLine + `) r
		WHERE c.coach_id = $1 AND (c.name, c.id) > ($3, $4) ORDER BY c.name, c.id LIMIT $5`,
	"sessions_remaining": `SELECT ` + rosterCols + ` FROM (SELECT c.id AS client_id, c.name, c.email, r.* FROM clients c
		CROSS JOIN LATERAL (` + rosterLine + `) r WHERE c.coach_id = $1) x
		WHERE (sessions_remaining, name, client_id) > ($6, $3, $4) ORDER BY sessions_remaining, name, client_id LIMIT $5`,
	"next_expiry": `SELECT ` + rosterCols + ` FROM (SELECT c.id AS client_id, c.name, c.email, r.* FROM clients c
		CROSS JOIN LATERAL (` + rosterLine + `) r WHERE c.coach_id = $1) x
		WHERE (coalesce(next_expiry, 'infinity'), name, client_id) > (coalesce($6::timestamptz, 'infinity'), $3, $4)
		ORDER BY coalesce(next_expiry, 'infinity'), name, client_id LIMIT $5`,
}
