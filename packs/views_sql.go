package packs

import (
	"context"
	"time"
)

// ClientBooking is one of a client's bookings with its session, for the
// coach's page about the client.
type ClientBooking struct {
	Booking
	StartsAt        time.Time  `db:"starts_at"`
	DurationMinutes int        `db:"duration_minutes"`
	Title           string     `db:"title"`
	SessionKind     string     `db:"session_kind"`
	SessionCancel   *time.Time `db:"session_cancelled_at"`
}

// ClientBookings lists a client's bookings, latest session first.
func (s *Service) ClientBookings(ctx context.Context, coachID, clientID int64, limit int) ([]ClientBooking, error) {
	rows := []ClientBooking{}
	err := s.DB.SelectContext(ctx, &rows, `SELECT `+bookingCols+`, s.starts_at, s.duration_minutes, s.title,
		s.kind AS session_kind, s.cancelled_at AS session_cancelled_at
		FROM bookings b JOIN sessions s ON s.id = b.session_id
		WHERE b.coach_id = $1 AND b.client_id = $2 ORDER BY s.starts_at DESC, b.id DESC LIMIT $3`, coachID, clientID, limit)
	return rows, err
}

// OfferNames maps every offer of a coach (archived too) to its name.
func (s *Service) OfferNames(ctx context.Context, coachID int64) (map[int64]string, error) {
	var rows []struct {
		ID   int64  `db:"id"`
		Name string `db:"name"`
	}
	err := s.DB.SelectContext(ctx, &rows, `SELECT id, name FROM offers WHERE coach_id = $1`, coachID)
	names := make(map[int64]string, len(rows))
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	return names, err
}

// PackClientLocale is the language of a pack's client, for the pages Stripe
// Checkout sends that client back to (they name the pack, nothing more).
func (s *Service) PackClientLocale(ctx context.Context, packID int64) (string, error) {
	var locale string
	err := s.DB.GetContext(ctx, &locale, `SELECT c.locale FROM packs p
		JOIN clients c ON c.coach_id = p.coach_id AND c.id = p.client_id WHERE p.id = $1`, packID)
	return locale, err
}
