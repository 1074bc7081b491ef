package packs

import (
	"time"

	"carnet/internal/errs"
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

// PackState is what the pack-choosing rule needs to know of a pack (read as
// rows or, with the booking, as JSON: the tags are the columns' names).
type PackState struct {
	ID           int64      `db:"id" json:"id"`
	Kind         string     `db:"kind" json:"kind"`
	Status       Status     `db:"status" json:"status"`
	Remaining    int        `db:"sessions_remaining" json:"sessions_remaining"`
	ActivatedAt  *time.Time `db:"activated_at" json:"activated_at"`
	ValidUntil   *time.Time `db:"valid_until" json:"valid_until"`
	OverdueSince *time.Time `db:"overdue_since" json:"overdue_since"`
	WeeklyCap    *int       `db:"weekly_cap" json:"weekly_cap"`
	GraceDays    int        `db:"grace_days" json:"grace_days"`
	CharterID    *int64     `db:"charter_version_id" json:"charter_version_id"` // what its holder accepted; nil: the defaults
	WeekCount    int        `db:"week_count" json:"week_count"`                 // sessions already counted in the session's week
}

// inService tells whether p's status and dates let it pay at start, whatever
// its balance: activated, still valid, active or exhausted, or overdue within
// its grace days.
func (p PackState) inService(start time.Time) bool {
	switch {
	case p.ActivatedAt == nil || p.ValidUntil == nil || !start.Before(*p.ValidUntil):
		return false
	case p.Status == StatusOverdue:
		return p.OverdueSince != nil && start.Before(p.OverdueSince.AddDate(0, 0, p.GraceDays))
	}
	return p.Status == StatusActive || p.Status == StatusExhausted
}

// Usable tells whether p can pay for a session starting at start.
func (p PackState) Usable(start time.Time) bool {
	if !p.inService(start) || p.Status == StatusExhausted {
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
	return firstToExpire(packs, func(p PackState) bool { return p.Usable(start) })
}

// GoodwillPack chooses where a goodwill credit goes: the client's sessions
// pack that expires first among those in service at now, an exhausted one
// included (the gift brings it back), whatever its balance. A client with no
// such pack but a period pack still running (active or overdue, whatever its
// week holds) is credited on a free sessions pack opened beside it: period
// is that pack (the newest), and pick is empty. ok is false when neither
// exists.
func GoodwillPack(packs []PackState, now time.Time) (pick PackState, period *PackState, ok bool) {
	if p, ok := firstToExpire(packs, func(p PackState) bool { return p.Kind == KindSessions && p.inService(now) }); ok {
		return p, nil, true
	}
	for _, p := range packs {
		if p.Kind == KindPeriod && p.ValidUntil != nil && now.Before(*p.ValidUntil) &&
			(p.Status == StatusActive || p.Status == StatusOverdue) {
			period = &p
		}
	}
	return PackState{}, period, period != nil
}

// firstToExpire is, among the packs ok accepts, the one whose validity ends
// first (then the oldest): the order in which a client's packs are used.
func firstToExpire(packs []PackState, ok func(PackState) bool) (PackState, bool) {
	var best PackState
	found := false
	for _, p := range packs {
		if !ok(p) {
			continue
		}
		if !found || p.ValidUntil.Before(*best.ValidUntil) || (p.ValidUntil.Equal(*best.ValidUntil) && p.ID < best.ID) {
			best, found = p, true
		}
	}
	return best, found
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

// OutcomeFacts is everything deciding a booking's outcome looks at, loaded
// (and locked) by the store as plain values.
type OutcomeFacts struct {
	BookingID, SessionID, ClientID int64
	Asked                          string      // the outcome asked: attended, no_show, cancelled, coach_cancelled
	Announced                      time.Time   // when a client's cancellation was announced
	Now                            time.Time   // when it is recorded
	StartsAt                       time.Time   // the session's start
	BookedAt                       time.Time   // when the booking was made
	SessionCancelled               bool        // the coach cancelled the whole session
	Recorded                       *string     // the outcome already recorded, if any
	Packs                          []PackState // the client's packs that may still pay
	// Charters holds the versions the packs, the newest pack and the coach's
	// current charter name (by id); the one with the highest version is the
	// current charter, since no pack accepted a version not yet published.
	Charters      map[int64]Charter
	Bought        bool   // the client has held an activated pack
	NewestCharter *int64 // the version their newest activated pack accepted (nil: the defaults)
	Currency      string // the coach's: a fee under the defaults is in it
}

// Entry is the ledger line an outcome appends.
type Entry struct {
	Kind     string // attended, no_show, late_cancel
	PackID   int64  // 0: a fee owed without a pack
	Delta    int    // -1 takes a session from a sessions pack
	Fee      int64  // money owed instead, minor units
	Currency string // of Fee
}

// Decision is what recording an outcome does.
type Decision struct {
	Outcome string  // what the booking is recorded as
	Charge  Charge  // what the outcome costs under Charter
	Charter Charter // the version it is judged by (ID 0: the defaults)
	Pack    *PackState
	Capped  *PackState // no pack pays: this period pack would but for its weekly cap
	Entry   *Entry     // nil: the ledger does not move
	// Replay: the same outcome was recorded already; the booking stands as it is.
	Replay bool
	// Refusal says why nothing is recorded (a typed error), nil when it stands.
	Refusal error
}

// Decide is the whole rule of a booking's outcome: whether it may be
// recorded, under which charter, what it costs and which pack pays. A counted
// outcome with no usable pack is refused (insufficient_balance), except a
// client's late cancellation, which always stands; a fee is owed with or
// without a pack; a period pack counts a session instead of deducting it.
func Decide(f OutcomeFacts) Decision {
	if f.Recorded != nil {
		if sameOutcome(*f.Recorded, f.Asked) {
			return Decision{Outcome: *f.Recorded, Replay: true}
		}
		return Decision{Refusal: errs.New(errs.Conflict, "booking %d is already %s", f.BookingID, *f.Recorded)}
	}
	switch {
	case f.SessionCancelled && f.Asked != CoachCancelled:
		return Decision{Refusal: errs.New(errs.Conflict, "session %d was cancelled by the coach", f.SessionID)}
	case (f.Asked == Attended || f.Asked == NoShow) && f.Now.Before(f.StartsAt):
		return Decision{Refusal: errs.Field("outcome", "attendance can be recorded once the session has started")}
	case f.Asked == Cancelled && f.Announced.Before(f.BookedAt):
		// Nobody cancels a booking before it exists: an earlier date
		// would only make a late cancellation look timely.
		return Decision{Refusal: errs.Field("announced_at", "is before the booking was made (%s)", f.BookedAt.Format(time.RFC3339))}
	case f.Asked == Cancelled && !f.Announced.Before(f.StartsAt):
		return Decision{Refusal: errs.New(errs.Conflict, "the session started at %s: a cancellation must come before the start",
			f.StartsAt.Format(time.RFC3339))}
	}
	return f.cost()
}

// cost judges the outcome asked under the charter that applies and finds the
// pack that pays: Decide once the booking may be recorded, and what a preview
// shows.
func (f OutcomeFacts) cost() Decision {
	d := Decision{}
	if p, ok := PickPack(f.Packs, f.StartsAt); ok {
		d.Pack = &p
	} else if p, ok := CappedPack(f.Packs, f.StartsAt); ok {
		d.Capped = &p
	}
	d.Charter = f.judgingCharter(d.Pack)
	d.Outcome, d.Charge = Judge(d.Charter, f.Asked, f.StartsAt, f.Announced)
	if d.Charge.Kind == "" {
		return d
	}
	e := Entry{Kind: d.Charge.Kind}
	if d.Pack != nil {
		e.PackID = d.Pack.ID
	}
	switch {
	case d.Charge.Fee > 0:
		// Money, not a session: owed whether or not a pack is left.
		e.Fee, e.Currency = d.Charge.Fee, d.Charter.Currency
	case d.Pack == nil && d.Outcome == LateCancelled:
		return d // nothing left to take: the cancellation stands all the same
	case d.Pack == nil && d.Capped != nil:
		d.Refusal = errs.New(errs.InsufficientBalance,
			"the weekly cap of pack %d is reached: %d of %d sessions already counted in the week of the session of %s",
			d.Capped.ID, d.Capped.WeekCount, *d.Capped.WeeklyCap, f.StartsAt.Format(time.RFC3339))
		return d
	case d.Pack == nil:
		d.Refusal = errs.New(errs.InsufficientBalance, "client %d has no usable pack for the session of %s", f.ClientID, f.StartsAt.Format(time.RFC3339))
		return d
	case d.Pack.Kind == KindSessions:
		e.Delta = -1
	}
	// A period pack counts the session: an entry that moves no balance.
	d.Entry = &e
	return d
}

// judgingCharter is the charter a booking is judged by: the version accepted
// with the pack that pays for it; without one, the version of the client's
// newest pack; a client who never bought is judged by the coach's current
// charter. A pack bought before any charter was published carries the
// defaults, in the coach's currency.
func (f OutcomeFacts) judgingCharter(pick *PackState) Charter {
	ch := DefaultCharter
	switch {
	case pick != nil:
		ch = f.charter(pick.CharterID)
	case f.Bought:
		ch = f.charter(f.NewestCharter)
	default:
		for _, c := range f.Charters {
			if c.Version > ch.Version {
				ch = c
			}
		}
	}
	if ch.Currency == "" {
		ch.Currency = f.Currency
	}
	return ch
}

func (f OutcomeFacts) charter(id *int64) Charter {
	if id == nil {
		return DefaultCharter
	}
	return f.Charters[*id]
}

// sameOutcome tells a retry of what was recorded from a new decision; a
// client cancellation is recorded as cancelled or late_cancelled.
func sameOutcome(recorded, requested string) bool {
	return recorded == requested || (requested == Cancelled && recorded == LateCancelled)
}
