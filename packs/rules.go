package packs

import (
	"sort"
	"time"
)

// Charter actions for late cancellations and no-shows.
const (
	ActionDeduct = "deduct"
	ActionFee    = "fee"
	ActionNone   = "none"
)

// Booking outcomes.
const (
	Attended       = "attended"
	NoShow         = "no_show"
	Cancelled      = "cancelled"       // by the client, with notice
	LateCancelled  = "late_cancelled"  // by the client, without enough notice
	CoachCancelled = "coach_cancelled" // by the coach: never costs the client
)

// Charter is one version of a coach's policy, the one a client signs.
type Charter struct {
	ID               int64     `db:"id" json:"id"`
	CoachID          int64     `db:"coach_id" json:"-"`
	Version          int       `db:"version" json:"version"`
	NoticeHours      int       `db:"notice_hours" json:"notice_hours"`
	LateCancelAction string    `db:"late_cancel_action" json:"late_cancel_action"`
	LateCancelFee    int64     `db:"late_cancel_fee" json:"late_cancel_fee"`
	NoShowAction     string    `db:"no_show_action" json:"no_show_action"`
	NoShowFee        int64     `db:"no_show_fee" json:"no_show_fee"`
	Currency         string    `db:"currency" json:"currency"`
	CoachCancel      string    `db:"coach_cancel" json:"coach_cancel"`
	GraceDays        int       `db:"grace_days" json:"grace_days"`
	AutoRefundExcess bool      `db:"auto_refund_excess" json:"auto_refund_excess"`
	CreatedAt        time.Time `db:"created_at" json:"created_at"`
	// EndUnused is what becomes of a client's unused sessions when the
	// coach ends the relationship (kept in charter_end_terms).
	EndUnused string `db:"-" json:"end_unused"`
	// Agreement is the version's written points (charter_agreements).
	Agreement Agreement `db:"-" json:"agreement"`
}

// DefaultCharter applies to a coach who has not published one yet: DESIGN's
// defaults (24 h notice, a late cancellation or a no-show costs the session).
var DefaultCharter = Charter{NoticeHours: 24, LateCancelAction: ActionDeduct, NoShowAction: ActionDeduct,
	CoachCancel: "nothing", GraceDays: 7, EndUnused: EndFinish}

// Charge is what an outcome costs the client.
type Charge struct {
	Kind    string // ledger kind when the outcome is counted, "" when it is not
	Session bool   // takes a session from a sessions pack (a period pack counts it)
	Fee     int64  // money owed instead, in minor units
}

// Judge decides an outcome's final name and its cost under a charter. A client
// cancellation is late when it was announced less than NoticeHours before the
// start: exactly NoticeHours before is still in time.
func Judge(ch Charter, outcome string, start, announced time.Time) (string, Charge) {
	switch outcome {
	case Attended:
		return Attended, Charge{Kind: "attended", Session: true}
	case NoShow:
		return NoShow, byAction(ch.NoShowAction, ch.NoShowFee, "no_show")
	case Cancelled, LateCancelled:
		if !IsLate(ch, start, announced) {
			return Cancelled, Charge{}
		}
		return LateCancelled, byAction(ch.LateCancelAction, ch.LateCancelFee, "late_cancel")
	}
	return CoachCancelled, Charge{}
}

// IsLate tells whether a cancellation announced at announced is late.
func IsLate(ch Charter, start, announced time.Time) bool {
	return start.Sub(announced) < time.Duration(ch.NoticeHours)*time.Hour
}

func byAction(action string, fee int64, kind string) Charge {
	switch action {
	case ActionDeduct:
		return Charge{Kind: kind, Session: true}
	case ActionFee:
		return Charge{Kind: kind, Fee: fee}
	}
	return Charge{}
}

// PackState is what the pack-choosing rule needs to know of a pack.
type PackState struct {
	ID           int64      `db:"id"`
	Kind         string     `db:"kind"`
	Status       string     `db:"status"`
	Remaining    int        `db:"sessions_remaining"`
	ActivatedAt  *time.Time `db:"activated_at"`
	ValidUntil   *time.Time `db:"valid_until"`
	OverdueSince *time.Time `db:"overdue_since"`
	WeeklyCap    *int       `db:"weekly_cap"`
	GraceDays    int        `db:"grace_days"`
	CharterID    *int64     `db:"charter_version_id"` // what its holder accepted; nil: the defaults
	WeekCount    int        `db:"week_count"`         // sessions already counted in the session's week
}

// Usable tells whether p can pay for a session starting at start.
func (p PackState) Usable(start time.Time) bool {
	switch {
	case p.ActivatedAt == nil || p.ValidUntil == nil || !start.Before(*p.ValidUntil):
		return false
	case p.Status == "overdue":
		if p.OverdueSince == nil || !start.Before(p.OverdueSince.AddDate(0, 0, p.GraceDays)) {
			return false
		}
	case p.Status != "active":
		return false
	}
	if p.Kind == KindSessions {
		return p.Remaining > 0
	}
	return !start.Before(*p.ActivatedAt) && (p.WeeklyCap == nil || p.WeekCount < *p.WeeklyCap)
}

// PickPack chooses the pack that pays for a session: among the usable ones,
// the one that expires first (then the oldest).
func PickPack(packs []PackState, start time.Time) (PackState, bool) {
	var usable []PackState
	for _, p := range packs {
		if p.Usable(start) {
			usable = append(usable, p)
		}
	}
	if len(usable) == 0 {
		return PackState{}, false
	}
	sort.Slice(usable, func(i, j int) bool {
		a, b := usable[i], usable[j]
		if !a.ValidUntil.Equal(*b.ValidUntil) {
			return a.ValidUntil.Before(*b.ValidUntil)
		}
		return a.ID < b.ID
	})
	return usable[0], true
}

// CappedPack finds, when no pack can pay for a session at start, a period
// pack that could but for its weekly cap: the reason to give the coach.
func CappedPack(packs []PackState, start time.Time) (PackState, bool) {
	for _, p := range packs {
		if p.Kind != KindPeriod || p.WeeklyCap == nil || p.WeekCount < *p.WeeklyCap {
			continue
		}
		uncapped := p
		uncapped.WeeklyCap = nil
		if uncapped.Usable(start) {
			return p, true
		}
	}
	return PackState{}, false
}
