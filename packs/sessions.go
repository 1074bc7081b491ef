package packs

import (
	"strings"
	"time"

	"carnet/internal/errs"
)

// Session is a slot in the coach's calendar with its participants.
type Session struct {
	ID              int64      `db:"id" json:"id"`
	CoachID         int64      `db:"coach_id" json:"-"`
	Title           string     `db:"title" json:"title"`
	StartsAt        time.Time  `db:"starts_at" json:"starts_at"`
	DurationMinutes int        `db:"duration_minutes" json:"duration_minutes"`
	Kind            string     `db:"kind" json:"kind"`
	CancelledAt     *time.Time `db:"cancelled_at" json:"cancelled_at,omitempty"`
	CreatedAt       time.Time  `db:"created_at" json:"created_at"`
	Bookings        []Booking  `db:"-" json:"bookings"`
}

// Booking is one participant in one session, and how it ended.
type Booking struct {
	ID               int64      `db:"id" json:"id"`
	CoachID          int64      `db:"coach_id" json:"-"`
	SessionID        int64      `db:"session_id" json:"session_id"`
	ClientID         int64      `db:"client_id" json:"client_id"`
	Outcome          *string    `db:"outcome" json:"outcome"`
	OutcomeAt        *time.Time `db:"outcome_at" json:"outcome_at,omitempty"`
	AnnouncedAt      *time.Time `db:"announced_at" json:"announced_at,omitempty"`
	PackID           *int64     `db:"pack_id" json:"pack_id,omitempty"`
	FeeAmount        int64      `db:"fee_amount" json:"fee_amount"`
	CharterVersionID *int64     `db:"charter_version_id" json:"charter_version_id,omitempty"`
	CreatedAt        time.Time  `db:"created_at" json:"created_at"`
	Waived           bool       `db:"waived" json:"waived"`
}

// SessionInput schedules a session, or with nil fields left alone, moves one.
type SessionInput struct {
	Title           *string    `json:"title"`
	StartsAt        *time.Time `json:"starts_at"`
	DurationMinutes *int       `json:"duration_minutes"`
	Kind            string     `json:"kind"`
	ClientIDs       []int64    `json:"client_ids"`
}

func (in SessionInput) apply(s *Session) error {
	if in.Title != nil {
		s.Title = strings.TrimSpace(*in.Title)
	}
	if in.StartsAt != nil {
		s.StartsAt = in.StartsAt.UTC()
	}
	if in.DurationMinutes != nil {
		s.DurationMinutes = *in.DurationMinutes
	}
	switch {
	case len(s.Title) > 200:
		return errs.Field("title", "must be at most 200 characters")
	case s.StartsAt.IsZero():
		return errs.Field("starts_at", "is required (RFC 3339, e.g. 2026-12-01T18:00:00+01:00)")
	case s.DurationMinutes < 5 || s.DurationMinutes > 1440:
		return errs.Field("duration_minutes", "must be from 5 to 1440 minutes")
	}
	return nil
}

// PeriodBounds returns the day, ISO week (Monday first) or month holding t, in
// t's location.
func PeriodBounds(period string, t time.Time) (time.Time, time.Time, error) {
	y, m, d := t.Date()
	start := time.Date(y, m, d, 0, 0, 0, 0, t.Location())
	switch period {
	case "day":
		return start, start.AddDate(0, 0, 1), nil
	case "", "week":
		start = start.AddDate(0, 0, -((int(start.Weekday()) + 6) % 7))
		return start, start.AddDate(0, 0, 7), nil
	case "month":
		start = time.Date(y, m, 1, 0, 0, 0, 0, t.Location())
		return start, start.AddDate(0, 1, 0), nil
	}
	return t, t, errs.Field("period", "must be day, week or month")
}
