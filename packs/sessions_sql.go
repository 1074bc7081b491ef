package packs

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
)

// myBookings is a client's latest bookings with their sessions, newest first.
func (s *Service) myBookings(ctx context.Context, coachID, clientID int64) ([]MyBooking, error) {
	rows := []MyBooking{}
	err := db.Q(ctx, s.DB).SelectContext(ctx, &rows, `SELECT `+bookingCols+`,
		to_char(s.starts_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS starts_at, s.duration_minutes, s.title
		FROM bookings b JOIN sessions s ON s.id = b.session_id
		WHERE b.coach_id = $1 AND b.client_id = $2 ORDER BY s.starts_at DESC LIMIT 200`, coachID, clientID)
	return rows, err
}

// bookingClient is the client a coach's booking is for.
func (s *Service) bookingClient(ctx context.Context, coachID, bookingID int64) (int64, error) {
	var owner int64
	err := db.Q(ctx, s.DB).GetContext(ctx, &owner, `SELECT client_id FROM bookings WHERE coach_id = $1 AND id = $2`, coachID, bookingID)
	return owner, err
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
	for i := range rows {
		if err := loadBookings(ctx, db.Q(ctx, s.DB), &rows[i]); err != nil {
			return nil, err
		}
	}
	return rows, nil
}
