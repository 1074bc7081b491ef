package packs

import (
	"strings"
	"time"

	"carnet/internal/errs"
)

// entry is one append-only ledger line. Delta is in sessions.
type entry struct {
	CoachID, ClientID, PackID int64
	BookingID                 *int64
	Kind                      string
	Delta                     int
	Reason                    string
	Value                     *int64
	Currency                  *string
	GrantID                   *int64 // the goodwill grant a goodwill entry belongs to
	At                        time.Time
}

// nullID is NULL for 0: a fee owed without a pack has no pack.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func notEnough(packID int64) error {
	return errs.New(errs.InsufficientBalance, "pack %d has not enough sessions left", packID)
}

// LedgerEntry is a ledger line as people read it.
type LedgerEntry struct {
	ID          int64     `db:"id" json:"id"`
	PackID      *int64    `db:"pack_id" json:"pack_id"`
	BookingID   *int64    `db:"booking_id" json:"booking_id,omitempty"`
	Kind        string    `db:"kind" json:"kind"`
	Delta       int       `db:"delta" json:"delta"`
	Reason      string    `db:"reason" json:"reason,omitempty"`
	ValueAmount *int64    `db:"value_amount" json:"value_amount,omitempty"`
	Currency    *string   `db:"currency" json:"currency,omitempty"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
}

// AdjustmentInput is a manual correction of one pack's balance.
type AdjustmentInput struct {
	PackID int64  `json:"pack_id"`
	Delta  int    `json:"delta"`
	Reason string `json:"reason"`
}

// GoodwillInput compensates several clients at once after an incident:
// linked to the session or the incident it makes up for, it gives each
// client either sessions or another item (a consultation of Minutes, worth
// ValueAmount).
type GoodwillInput struct {
	ClientIDs   []int64 `json:"client_ids"`
	SessionID   *int64  `json:"session_id"`
	Incident    string  `json:"incident"`
	Item        string  `json:"item"` // sessions (the default) or consultation
	Sessions    int     `json:"sessions"`
	Minutes     int     `json:"minutes"` // a consultation's length
	Note        string  `json:"note"`
	ValueAmount int64   `json:"value_amount"` // what it costs the coach, per client, minor units
}

// Goodwill items.
const (
	ItemSessions     = "sessions"
	ItemConsultation = "consultation"
)

// GoodwillGrant is what one client received.
type GoodwillGrant struct {
	GrantID  int64  `json:"grant_id"`
	ClientID int64  `json:"client_id"`
	Item     string `json:"item"`
	PackID   int64  `json:"pack_id,omitempty"` // the pack credited with the sessions
	Sessions int    `json:"sessions"`
	Minutes  int    `json:"minutes"`
	Value    int64  `json:"value_amount"`
}

func (in *GoodwillInput) validate() error {
	in.Note, in.Incident = strings.TrimSpace(in.Note), strings.TrimSpace(in.Incident)
	if in.Item == "" {
		in.Item = ItemSessions
	}
	switch {
	case len(in.ClientIDs) == 0 || len(in.ClientIDs) > 500:
		return errs.Field("client_ids", "name 1 to 500 clients")
	case in.SessionID == nil && in.Incident == "":
		return errs.Field("session_id", "name the session (session_id) or the incident (incident) this makes up for")
	case len(in.Incident) > 200:
		return errs.Field("incident", "must be at most 200 characters")
	case in.Item != ItemSessions && in.Item != ItemConsultation:
		return errs.Field("item", "must be sessions or consultation")
	case in.Item == ItemSessions && (in.Sessions < 1 || in.Sessions > 20):
		return errs.Field("sessions", "must be from 1 to 20")
	case in.Item == ItemConsultation && in.Sessions != 0:
		return errs.Field("sessions", "a consultation gives no sessions; set minutes")
	case in.Item == ItemConsultation && (in.Minutes < 5 || in.Minutes > 480):
		return errs.Field("minutes", "a consultation lasts from 5 to 480 minutes")
	case in.Note == "" || len(in.Note) > 500:
		return errs.Field("note", "is required (at most 500 characters)")
	case in.ValueAmount < 0:
		return errs.Field("value_amount", "must not be negative")
	}
	return nil
}

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}
