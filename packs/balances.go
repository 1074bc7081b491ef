package packs

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

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

// RosterRow is one client's line in the coach's balances view.
type RosterRow struct {
	ClientID          int64      `db:"client_id" json:"client_id"`
	Name              string     `db:"name" json:"name"`
	Email             string     `db:"email" json:"email"`
	SessionsRemaining int        `db:"sessions_remaining" json:"sessions_remaining"`
	ActivePacks       int        `db:"active_packs" json:"active_packs"`
	NextExpiry        *time.Time `db:"next_expiry" json:"next_expiry"`
}

// rosterCursor is the last row of a page in its sort order; the API hands
// it out opaque (base64 of JSON), so the next page starts right after it.
type rosterCursor struct {
	Name     string     `json:"n"`
	Sessions int        `json:"s,omitempty"`
	Expiry   *time.Time `json:"e,omitempty"`
	ClientID int64      `json:"i"`
	Sort     string     `json:"o"`
}

func encodeRosterCursor(c rosterCursor) string {
	b, _ := json.Marshal(c)
	return "r" + base64.RawURLEncoding.EncodeToString(b)
}

func decodeRosterCursor(s, sort string) (rosterCursor, error) {
	var c rosterCursor
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(s, "r"))
	if !strings.HasPrefix(s, "r") || err != nil || json.Unmarshal(b, &c) != nil || c.Sort != sort {
		return c, errs.Field("cursor", "is not a cursor this API gave out for this sort")
	}
	return c, nil
}
