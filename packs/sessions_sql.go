package packs

import (
	"context"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/db"
)

// loadAllBookings fills the bookings of a coach's sessions in one query,
// not one per session (a day of 20 group sessions was 21 round trips).
func loadAllBookings(ctx context.Context, q sqlx.QueryerContext, coachID int64, sessions []Session) error {
	ids := make([]int64, len(sessions))
	at := make(map[int64]int, len(sessions))
	for i := range sessions {
		ids[i], at[sessions[i].ID] = sessions[i].ID, i
		sessions[i].Bookings = []Booking{}
	}
	if len(ids) == 0 {
		return nil
	}
	var all []Booking
	if err := sqlx.SelectContext(ctx, q, &all, `SELECT `+bookingCols+` FROM bookings b
		WHERE b.coach_id = $1 AND b.session_id = ANY($2) ORDER BY b.session_id, b.id`, coachID, pq.Array(ids)); err != nil {
		return err
	}
	for _, b := range all {
		i := at[b.SessionID]
		sessions[i].Bookings = append(sessions[i].Bookings, b)
	}
	return nil
}

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
