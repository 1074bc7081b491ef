package packs

import (
	"context"
	"time"

	"carnet/internal/api"
	"carnet/internal/db"
	"carnet/internal/errs"
)

// Installment is a payment a pack still expects.
type Installment struct {
	Seq      int       `db:"seq" json:"seq"`
	DueAt    time.Time `db:"due_at" json:"due_at"`
	Amount   int64     `db:"amount" json:"amount"`
	Currency string    `db:"currency" json:"currency"`
}

// PackBalance is one pack as its holder sees it: a sessions pack by its
// sessions left, a period pack by its days left and this week's sessions
// against its cap (its sessions_remaining means nothing).
type PackBalance struct {
	Pack
	NextInstallment *Installment `json:"next_installment"`
	// Ended: its validity is over (status stays until the expiry job's
	// grace, ExpiryGrace, runs out); sessions held before the end can
	// still be marked until MarkableUntil.
	Ended         bool       `json:"ended"`
	MarkableUntil *time.Time `json:"markable_until,omitempty"`
	// Period packs only: whole days until valid_until, and the sessions
	// counted in the current week (coach's time zone).
	DaysLeft         *int `json:"days_left,omitempty"`
	SessionsThisWeek *int `json:"sessions_this_week,omitempty"`
}

// Balance is everything a client holds.
type Balance struct {
	ClientID int64 `json:"client_id"`
	// SessionsRemaining adds up the sessions packs that can still pay today.
	SessionsRemaining int           `json:"sessions_remaining"`
	Packs             []PackBalance `json:"packs"`
}

// ClientBalance lists a client's packs, newest first, with what is left.
func (s *Service) ClientBalance(ctx context.Context, coachID, clientID int64) (Balance, error) {
	if _, err := s.Client(ctx, coachID, clientID); err != nil {
		return Balance{}, err
	}
	b := Balance{ClientID: clientID, Packs: []PackBalance{}}
	now := s.Now().UTC()
	var packs []struct {
		Pack
		Week int `db:"week_count"`
	}
	if err := db.Q(ctx, s.DB).SelectContext(ctx, &packs, `SELECT `+db.Columns[Pack]("p")+`, `+weekCount("$3")+` AS week_count
		FROM packs p JOIN coaches c ON c.id = p.coach_id WHERE p.coach_id = $1 AND p.client_id = $2
		ORDER BY p.id DESC`, coachID, clientID, now); err != nil {
		return b, err
	}
	for _, row := range packs {
		p := row.Pack
		pb := PackBalance{Pack: p}
		live := p.Status == "active" || p.Status == "overdue" || p.Status == "exhausted"
		if live && p.ValidUntil != nil && !now.Before(*p.ValidUntil) {
			until := p.ValidUntil.Add(ExpiryGrace)
			pb.Ended, pb.MarkableUntil = true, &until
		}
		if p.Kind == KindPeriod && live && p.ValidUntil != nil {
			days := DaysLeft(p.ValidUntil, now)
			pb.DaysLeft, pb.SessionsThisWeek = &days, &row.Week
		}
		var next []Installment
		if err := db.Q(ctx, s.DB).SelectContext(ctx, &next, `SELECT seq, due_at, amount, currency FROM installments
			WHERE pack_id = $1 AND status IN ('due', 'failed') ORDER BY seq LIMIT 1`, p.ID); err != nil {
			return b, err
		}
		if len(next) == 1 {
			pb.NextInstallment = &next[0]
		}
		if p.Kind == KindSessions && (p.Status == "active" || p.Status == "overdue") &&
			p.ValidUntil != nil && now.Before(*p.ValidUntil) {
			b.SessionsRemaining += p.SessionsRemaining
		}
		b.Packs = append(b.Packs, pb)
	}
	return b, nil
}

// RosterRow is one client's line in the coach's balances view.
type RosterRow struct {
	ClientID          int64      `db:"client_id" json:"client_id"`
	Name              string     `db:"name" json:"name"`
	Email             string     `db:"email" json:"email"`
	SessionsRemaining int        `db:"sessions_remaining" json:"sessions_remaining"`
	ActivePacks       int        `db:"active_packs" json:"active_packs"`
	NextExpiry        *time.Time `db:"next_expiry" json:"next_expiry"`
}

var rosterOrder = map[string]string{
	"name":               "name, client_id",
	"sessions_remaining": "sessions_remaining, name, client_id",
	"next_expiry":        "next_expiry NULLS LAST, name, client_id",
}

// Roster is every client's balance, sorted by name, sessions_remaining or
// next_expiry. Its cursor is a position in that order.
func (s *Service) Roster(ctx context.Context, coachID int64, sort, cursor string, limit int) (api.List[RosterRow], error) {
	if sort == "" {
		sort = "name"
	}
	order, ok := rosterOrder[sort]
	if !ok {
		return api.List[RosterRow]{}, errs.Field("sort", "must be name, sessions_remaining or next_expiry")
	}
	offset := int64(0)
	if cursor != "" {
		var err error
		if offset, err = api.DecodeCursor(cursor); err != nil {
			return api.List[RosterRow]{}, err
		}
	}
	var rows []RosterRow
	err := db.Q(ctx, s.DB).SelectContext(ctx, &rows, `SELECT client_id, name, email, sessions_remaining, active_packs, next_expiry FROM (
		SELECT c.id AS client_id, c.name, c.email,
		  coalesce(sum(p.sessions_remaining) FILTER (WHERE p.kind = 'sessions'), 0)::int AS sessions_remaining,
		  count(p.id)::int AS active_packs, min(p.valid_until) AS next_expiry
		FROM clients c LEFT JOIN packs p ON p.client_id = c.id AND p.coach_id = c.coach_id
		  AND p.status IN ('active', 'overdue') AND p.valid_until > $2
		WHERE c.coach_id = $1 GROUP BY c.id) r
		ORDER BY `+order+` OFFSET $3 LIMIT $4`, coachID, s.Now().UTC(), offset, limit+1)
	list := api.List[RosterRow]{Data: rows}
	if list.Data == nil {
		list.Data = []RosterRow{}
	}
	if len(rows) > limit {
		list.Data = rows[:limit]
		list.NextCursor = api.EncodeCursor(offset + int64(limit))
	}
	return list, err
}
