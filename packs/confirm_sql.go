package packs

import (
	"context"
	"time"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
)

// ConfirmAttendance records the client's confirmation that a session the
// coach marked attended took place: their signature beside that line of the
// coach's sheet. A second confirmation keeps the first time.
func (s *Service) ConfirmAttendance(ctx context.Context, who auth.ClientAuth, bookingID int64) (time.Time, error) {
	var at time.Time
	err := s.DB.GetContext(ctx, &at, `UPDATE bookings SET client_confirmed_at = coalesce(client_confirmed_at, $4)
		WHERE coach_id = $1 AND client_id = $2 AND id = $3 AND outcome = 'attended' RETURNING client_confirmed_at`,
		who.CoachID, who.ClientID, bookingID, s.Now().UTC())
	if !db.NoRows(err) {
		return at, err
	}
	var outcome *string
	err = s.DB.GetContext(ctx, &outcome, `SELECT outcome FROM bookings WHERE coach_id = $1 AND client_id = $2 AND id = $3`,
		who.CoachID, who.ClientID, bookingID)
	if db.NoRows(err) {
		return at, errs.NotFoundf("no booking %d", bookingID)
	}
	if err == nil {
		err = errs.New(errs.Conflict, "only a session the coach marked attended can be confirmed")
	}
	return at, err
}
