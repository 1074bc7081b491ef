package packs

import (
	"context"

	"carnet/internal/db"
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
