package packs

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/db"
	"carnet/internal/errs"
)

// OutcomeInput records how a booking ended. AnnouncedAt is when a client's
// cancellation was announced (default: now); it decides whether it is late.
type OutcomeInput struct {
	Outcome     string     `json:"outcome"`
	AnnouncedAt *time.Time `json:"announced_at"`
}

// bookingRow is a booking locked with what judging it needs.
type bookingRow struct {
	Booking
	StartsAt    time.Time  `db:"starts_at"`
	CancelledAt *time.Time `db:"session_cancelled_at"`
}

func lockBooking(ctx context.Context, tx *sqlx.Tx, coachID, id int64) (bookingRow, error) {
	var b bookingRow
	err := tx.GetContext(ctx, &b, `SELECT `+bookingCols+`, s.starts_at, s.cancelled_at AS session_cancelled_at
		FROM bookings b JOIN sessions s ON s.id = b.session_id
		WHERE b.coach_id = $1 AND b.id = $2 FOR UPDATE OF b`, coachID, id)
	if db.NoRows(err) {
		return b, errs.NotFoundf("no booking %d", id)
	}
	return b, err
}

// judgingCharter is the charter a booking is judged by: the version accepted
// with the pack that pays for it; without one, the version of the client's
// newest pack; a client who never bought is judged by the coach's current
// charter. A pack bought before any charter was published carries the defaults.
func judgingCharter(ctx context.Context, q sqlx.QueryerContext, coachID, clientID int64, pick *PackState) (Charter, error) {
	var ch Charter
	var err error
	if pick != nil {
		ch, err = charterByID(ctx, q, coachID, pick.CharterID)
	} else {
		var ids []sql.NullInt64
		err = sqlx.SelectContext(ctx, q, &ids, `SELECT charter_version_id FROM packs WHERE coach_id = $1 AND client_id = $2
			AND activated_at IS NOT NULL ORDER BY activated_at DESC, id DESC LIMIT 1`, coachID, clientID)
		switch {
		case err != nil:
		case len(ids) == 1 && ids[0].Valid:
			ch, err = charterByID(ctx, q, coachID, &ids[0].Int64)
		case len(ids) == 1:
			ch = DefaultCharter
		default:
			err = sqlx.GetContext(ctx, q, &ch, `SELECT `+charterCols+` FROM charter_versions WHERE coach_id = $1
				ORDER BY version DESC LIMIT 1`, coachID)
			if db.NoRows(err) {
				ch, err = DefaultCharter, nil
			}
		}
	}
	if err == nil && ch.Currency == "" {
		err = sqlx.GetContext(ctx, q, &ch.Currency, `SELECT currency FROM coaches WHERE id = $1`, coachID)
	}
	return ch, err
}

// judge finds the pack that would pay for a booking (locking the client's
// packs) and what the outcome costs under the charter that applies; with no
// pack to pay, capped is the period pack only its weekly cap keeps out.
func judge(ctx context.Context, tx *sqlx.Tx, coachID int64, b bookingRow, outcome string, announced time.Time) (string, Charge, Charter, *PackState, *PackState, error) {
	states, err := lockPacks(ctx, tx, coachID, b.ClientID, b.StartsAt)
	if err != nil {
		return "", Charge{}, Charter{}, nil, nil, err
	}
	var pick, capped *PackState
	if p, ok := PickPack(states, b.StartsAt); ok {
		pick = &p
	} else if p, ok := CappedPack(states, b.StartsAt); ok {
		capped = &p
	}
	ch, err := judgingCharter(ctx, tx, coachID, b.ClientID, pick)
	if err != nil {
		return "", Charge{}, Charter{}, nil, nil, err
	}
	final, charge := Judge(ch, outcome, b.StartsAt, announced)
	return final, charge, ch, pick, capped, nil
}

// RecordOutcome settles a booking exactly once. The same outcome sent again
// returns the booking as it is; another outcome for a settled booking is a
// conflict. A counted outcome with no usable pack is insufficient_balance and
// changes nothing, except a client's late cancellation, which always stands.
func (s *Service) RecordOutcome(ctx context.Context, coachID, bookingID int64, in OutcomeInput) (Booking, error) {
	now := s.Now().UTC()
	announced := now
	if in.AnnouncedAt != nil {
		announced = in.AnnouncedAt.UTC()
		if announced.After(now) {
			return Booking{}, errs.Field("announced_at", "cannot be in the future")
		}
	}
	switch in.Outcome {
	case Attended, NoShow, Cancelled, CoachCancelled:
	default:
		return Booking{}, errs.Field("outcome", "must be attended, no_show, cancelled or coach_cancelled")
	}
	var out Booking
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		b, err := lockBooking(ctx, tx, coachID, bookingID)
		if err != nil {
			return err
		}
		if b.Outcome != nil {
			if sameOutcome(*b.Outcome, in.Outcome) {
				out = b.Booking
				return nil
			}
			return errs.New(errs.Conflict, "booking %d is already %s", bookingID, *b.Outcome)
		}
		switch {
		case b.CancelledAt != nil && in.Outcome != CoachCancelled:
			return errs.New(errs.Conflict, "session %d was cancelled by the coach", b.SessionID)
		case (in.Outcome == Attended || in.Outcome == NoShow) && now.Before(b.StartsAt):
			return errs.Field("outcome", "attendance can be recorded once the session has started")
		case in.Outcome == Cancelled && announced.Before(b.CreatedAt):
			// Nobody cancels a booking before it exists: an earlier date
			// would only make a late cancellation look timely.
			return errs.Field("announced_at", "is before the booking was made (%s)", b.CreatedAt.Format(time.RFC3339))
		case in.Outcome == Cancelled && !announced.Before(b.StartsAt):
			return errs.New(errs.Conflict, "the session started at %s: a cancellation must come before the start",
				b.StartsAt.Format(time.RFC3339))
		}
		outcome, charge, ch, pick, capped, err := judge(ctx, tx, coachID, b, in.Outcome, announced)
		if err != nil {
			return err
		}
		var packID *int64
		if charge.Kind != "" {
			e := entry{CoachID: coachID, ClientID: b.ClientID, BookingID: &b.ID, Kind: charge.Kind, At: now}
			if pick != nil {
				packID, e.PackID = &pick.ID, pick.ID
			}
			switch {
			case charge.Fee > 0:
				// Money, not a session: owed whether or not a pack is left.
				e.Value, e.Currency = &charge.Fee, &ch.Currency
				err = addEntry(ctx, tx, e)
			case pick == nil && outcome == LateCancelled:
				// Nothing left to take: the cancellation stands all the same.
			case pick == nil && capped != nil:
				return errs.New(errs.InsufficientBalance,
					"the weekly cap of pack %d is reached: %d of %d sessions already counted in the week of the session of %s",
					capped.ID, capped.WeekCount, *capped.WeeklyCap, b.StartsAt.Format(time.RFC3339))
			case pick == nil:
				return errs.New(errs.InsufficientBalance,
					"client %d has no usable pack for the session of %s", b.ClientID, b.StartsAt.Format(time.RFC3339))
			case pick.Kind == KindSessions:
				e.Delta = -1
				if err = moveSessions(ctx, tx, e); err == nil {
					err = afterDeduction(ctx, tx, pick.ID)
				}
			default:
				err = addEntry(ctx, tx, e) // a period pack counts the session
			}
			if err != nil {
				return err
			}
		}
		var charterID *int64
		if ch.ID != 0 {
			charterID = &ch.ID
		}
		var ann *time.Time
		if outcome == Cancelled || outcome == LateCancelled {
			ann = &announced
		}
		if _, err := tx.ExecContext(ctx, `UPDATE bookings SET outcome = $3, outcome_at = $4, announced_at = $5,
			pack_id = $6, fee_amount = $7, charter_version_id = $8 WHERE coach_id = $1 AND id = $2`,
			coachID, bookingID, outcome, now, ann, packID, charge.Fee, charterID); err != nil {
			return err
		}
		if charge.Fee > 0 && s.OnFee != nil {
			if err := s.OnFee(ctx, tx, bookingID); err != nil {
				return err
			}
		}
		b, err = lockBooking(ctx, tx, coachID, bookingID)
		out = b.Booking
		return err
	})
	return out, err
}

// sameOutcome tells a retry of what was recorded from a new decision; a
// client cancellation is recorded as cancelled or late_cancelled.
func sameOutcome(recorded, requested string) bool {
	return recorded == requested || (requested == Cancelled && recorded == LateCancelled)
}

// Waive gives back what a booking cost — its session, or its fee — once,
// as a new ledger entry with the reason; the charge itself stays.
func (s *Service) Waive(ctx context.Context, coachID, bookingID int64, reason string) (Booking, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return Booking{}, errs.Field("reason", "is required (at most 500 characters)")
	}
	var out Booking
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		b, err := lockBooking(ctx, tx, coachID, bookingID)
		if err != nil {
			return err
		}
		if !b.Waived {
			var charge struct {
				PackID   *int64  `db:"pack_id"`
				Delta    int     `db:"delta"`
				Value    *int64  `db:"value_amount"`
				Currency *string `db:"currency"`
			}
			err = tx.GetContext(ctx, &charge, `SELECT pack_id, delta, value_amount, currency FROM ledger_entries
				WHERE booking_id = $1 AND kind IN ('attended', 'no_show', 'late_cancel')`, bookingID)
			if db.NoRows(err) {
				return errs.New(errs.Conflict, "booking %d cost nothing; there is nothing to waive", bookingID)
			}
			if err != nil {
				return err
			}
			e := entry{CoachID: coachID, ClientID: b.ClientID, BookingID: &b.ID, Kind: "waiver",
				Delta: -charge.Delta, Value: charge.Value, Currency: charge.Currency, Reason: reason, At: s.Now().UTC()}
			if charge.PackID != nil {
				e.PackID = *charge.PackID
			}
			if e.Delta != 0 {
				err = moveSessions(ctx, tx, e)
			} else {
				err = addEntry(ctx, tx, e)
			}
			if err != nil {
				return err
			}
		}
		b, err = lockBooking(ctx, tx, coachID, bookingID)
		out = b.Booking
		return err
	})
	return out, err
}

// CancelSession is the coach cancelling: every open booking becomes
// coach_cancelled, which never costs the client.
func (s *Service) CancelSession(ctx context.Context, coachID, id int64) (Session, error) {
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		now := s.Now().UTC()
		res, err := tx.ExecContext(ctx, `UPDATE sessions SET cancelled_at = coalesce(cancelled_at, $3)
			WHERE coach_id = $1 AND id = $2`, coachID, id, now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("no session %d", id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE bookings SET outcome = 'coach_cancelled', outcome_at = $3
			WHERE coach_id = $1 AND session_id = $2 AND outcome IS NULL`, coachID, id, now)
		return err
	})
	if err != nil {
		return Session{}, err
	}
	return s.SessionByID(ctx, coachID, id)
}

// CancellationPreview tells a client, before they cancel, what it will cost.
type CancellationPreview struct {
	BookingID   int64     `json:"booking_id"`
	StartsAt    time.Time `json:"starts_at"`
	FreeUntil   time.Time `json:"free_until"`
	Late        bool      `json:"late"`
	Counted     bool      `json:"counted"`
	FeeAmount   int64     `json:"fee_amount"`
	Currency    string    `json:"currency,omitempty"`
	NoticeHours int       `json:"notice_hours"`
	Message     string    `json:"message"`
}

// PreviewCancellation judges a cancellation announced now without making it.
func (s *Service) PreviewCancellation(ctx context.Context, coachID, clientID, bookingID int64) (CancellationPreview, error) {
	var p CancellationPreview
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		b, err := lockBooking(ctx, tx, coachID, bookingID)
		if err != nil || b.ClientID != clientID {
			return errs.NotFoundf("no booking %d", bookingID)
		}
		now := s.Now().UTC()
		switch {
		case b.Outcome != nil:
			return errs.New(errs.Conflict, "booking %d is already %s", bookingID, *b.Outcome)
		case !now.Before(b.StartsAt):
			return errs.New(errs.Conflict, "the session has started; it can no longer be cancelled")
		}
		outcome, charge, ch, _, _, err := judge(ctx, tx, coachID, b, Cancelled, now)
		if err != nil {
			return err
		}
		p = CancellationPreview{BookingID: bookingID, StartsAt: b.StartsAt, NoticeHours: ch.NoticeHours,
			FreeUntil: b.StartsAt.Add(-time.Duration(ch.NoticeHours) * time.Hour), Late: outcome == LateCancelled,
			Counted: charge.Session, FeeAmount: charge.Fee}
		if charge.Fee > 0 {
			p.Currency = ch.Currency
		}
		var who struct {
			Locale   string `db:"locale"`
			Timezone string `db:"timezone"`
		}
		if err := tx.GetContext(ctx, &who, `SELECT c.locale, co.timezone FROM clients c JOIN coaches co ON co.id = c.coach_id
			WHERE c.id = $1`, clientID); err != nil {
			return err
		}
		p.Message = PreviewText(p, who.Locale, who.Timezone)
		return nil
	})
	return p, err
}
