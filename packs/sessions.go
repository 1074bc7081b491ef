package packs

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/auth"
	"carnet/internal/db"
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

const bookingCols = `b.id, b.coach_id, b.session_id, b.client_id, b.outcome, b.outcome_at, b.announced_at, b.pack_id,
	b.fee_amount, b.charter_version_id, b.created_at,
	EXISTS (SELECT 1 FROM ledger_entries w WHERE w.booking_id = b.id AND w.kind = 'waiver') AS waived`

// Schedule creates a session and books its participants.
func (s *Service) Schedule(ctx context.Context, coachID int64, in SessionInput) (Session, error) {
	sess := Session{DurationMinutes: 60, Kind: in.Kind}
	if err := in.apply(&sess); err != nil {
		return sess, err
	}
	if sess.Kind == "" {
		sess.Kind = "individual"
		if len(in.ClientIDs) > 1 {
			sess.Kind = "group"
		}
	}
	switch {
	case sess.Kind != "individual" && sess.Kind != "group":
		return sess, errs.Field("kind", "must be individual or group")
	case len(in.ClientIDs) == 0 || len(in.ClientIDs) > 100:
		return sess, errs.Field("client_ids", "name 1 to 100 participants")
	case sess.Kind == "individual" && len(in.ClientIDs) != 1:
		return sess, errs.Field("client_ids", "an individual session has exactly one participant")
	}
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		var known int
		if err := tx.GetContext(ctx, &known, `SELECT count(DISTINCT id) FROM clients WHERE coach_id = $1 AND id = ANY($2)`,
			coachID, pq.Array(in.ClientIDs)); err != nil {
			return err
		}
		if known != len(in.ClientIDs) {
			return errs.Field("client_ids", "every participant must be one of your clients, named once")
		}
		ended, err := notBookable(ctx, tx, coachID, in.ClientIDs, sess.StartsAt)
		if err != nil {
			return err
		}
		if len(ended) > 0 {
			return errs.Field("client_ids", "the relationship with client %d has ended: they can no longer be booked", ended[0])
		}
		if err := tx.GetContext(ctx, &sess, `INSERT INTO sessions (coach_id, title, starts_at, duration_minutes, kind)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+sessionCols, coachID, sess.Title, sess.StartsAt, sess.DurationMinutes, sess.Kind); err != nil {
			return err
		}
		// Made now by the service's clock: a cancellation is judged against it.
		if _, err := tx.ExecContext(ctx, `INSERT INTO bookings (coach_id, session_id, client_id, created_at)
			SELECT $1, $2, unnest($3::bigint[]), $4`, coachID, sess.ID, pq.Array(in.ClientIDs), s.Now().UTC()); err != nil {
			return err
		}
		return loadBookings(ctx, tx, &sess)
	})
	return sess, err
}

func loadBookings(ctx context.Context, q sqlx.QueryerContext, sess *Session) error {
	sess.Bookings = []Booking{}
	return sqlx.SelectContext(ctx, q, &sess.Bookings, `SELECT `+bookingCols+` FROM bookings b
		WHERE b.coach_id = $1 AND b.session_id = $2 ORDER BY b.id`, sess.CoachID, sess.ID)
}

// SessionByID returns one session with its bookings.
func (s *Service) SessionByID(ctx context.Context, coachID, id int64) (Session, error) {
	var sess Session
	err := db.Q(ctx, s.DB).GetContext(ctx, &sess, `SELECT `+sessionCols+` FROM sessions WHERE coach_id = $1 AND id = $2`, coachID, id)
	if db.NoRows(err) {
		return sess, errs.NotFoundf("no session %d", id)
	}
	if err != nil {
		return sess, err
	}
	return sess, loadBookings(ctx, db.Q(ctx, s.DB), &sess)
}

// Reschedule moves a session that has not started being recorded.
func (s *Service) Reschedule(ctx context.Context, coachID, id int64, in SessionInput) (Session, error) {
	if in.Kind != "" || in.ClientIDs != nil {
		return Session{}, errs.Field("client_ids", "only title, starts_at and duration_minutes can change")
	}
	var sess Session
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		err := tx.GetContext(ctx, &sess, `SELECT `+sessionCols+` FROM sessions WHERE coach_id = $1 AND id = $2 FOR UPDATE`, coachID, id)
		if db.NoRows(err) {
			return errs.NotFoundf("no session %d", id)
		}
		if err != nil {
			return err
		}
		var recorded bool
		if err := tx.GetContext(ctx, &recorded, `SELECT EXISTS (SELECT 1 FROM bookings WHERE session_id = $1
			AND outcome IS NOT NULL)`, id); err != nil {
			return err
		}
		if sess.CancelledAt != nil || recorded {
			return errs.New(errs.Conflict, "session %d is cancelled or has outcomes recorded; it cannot move", id)
		}
		if err := in.apply(&sess); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &sess, `UPDATE sessions SET title = $3, starts_at = $4, duration_minutes = $5
			WHERE coach_id = $1 AND id = $2 RETURNING `+sessionCols, coachID, id, sess.Title, sess.StartsAt, sess.DurationMinutes); err != nil {
			return err
		}
		return loadBookings(ctx, tx, &sess)
	})
	return sess, err
}

// Sessions lists a coach's sessions in one day, week or month of the coach's
// time zone, containing date.
func (s *Service) Sessions(ctx context.Context, coach auth.Coach, period, date string) ([]Session, error) {
	loc, err := time.LoadLocation(coach.Timezone)
	if err != nil {
		loc = time.UTC
	}
	day := s.Now().In(loc)
	if date != "" {
		if day, err = time.ParseInLocation("2006-01-02", date, loc); err != nil {
			return nil, errs.Field("date", "must be a date such as 2026-12-01")
		}
	}
	from, to, err := PeriodBounds(period, day)
	if err != nil {
		return nil, err
	}
	rows := []Session{}
	if err := db.Q(ctx, s.DB).SelectContext(ctx, &rows, `SELECT `+sessionCols+` FROM sessions WHERE coach_id = $1
		AND starts_at >= $2 AND starts_at < $3 ORDER BY starts_at, id`, coach.ID, from, to); err != nil {
		return nil, err
	}
	return rows, loadAllBookings(ctx, db.Q(ctx, s.DB), coach.ID, rows)
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
