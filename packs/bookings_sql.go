package packs

import (
	"carnet/internal/db"
	"carnet/internal/errs"
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// lockBookingSQL locks booking $2 of coach $1 and reads what its judging
// needs beside the packs: the coach's currency and the client's newest
// activated pack's charter version.
const lockBookingSQL = `SELECT ` + bookingCols + `, s.starts_at, s.cancelled_at AS session_cancelled_at,
		co.currency AS coach_currency, n.id IS NOT NULL AS bought, n.charter_version_id AS newest_charter
		FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN coaches co ON co.id = b.coach_id
		LEFT JOIN LATERAL (SELECT id, charter_version_id FROM packs WHERE coach_id = b.coach_id AND client_id = b.client_id
			AND activated_at IS NOT NULL ORDER BY activated_at DESC, id DESC LIMIT 1) n ON true
		WHERE b.coach_id = $1 AND b.id = $2 FOR UPDATE OF b`

// lockBooking locks a booking (lockBookingSQL).
func lockBooking(ctx context.Context, tx *sqlx.Tx, coachID, id int64) (bookingRow, error) {
	var b bookingRow
	err := tx.GetContext(ctx, &b, lockBookingSQL, coachID, id)
	if db.NoRows(err) {
		return b, errs.NotFoundf("no booking %d", id)
	}
	return b, err
}

// outcomeFactsSQL is outcomeFacts' statement: coach $1, booking $2, the
// live statuses $3, the defaults' grace days $4.
var outcomeFactsSQL = `WITH bk AS (` + lockBookingSQL + `),
	live AS (` + livePacksSQL(`(SELECT client_id FROM bk WHERE outcome IS NULL)`) + `)
	SELECT bk.*, (SELECT coalesce(json_agg(live ORDER BY live.id), '[]') FROM live) AS packs,
		(SELECT coalesce(json_agg(ch), '[]') FROM (SELECT ` + charterCols + ` FROM charter_versions
			WHERE coach_id = $1 AND bk.outcome IS NULL AND (id IN (SELECT charter_version_id FROM live) OR id = bk.newest_charter
			OR id = (SELECT id FROM charter_versions WHERE coach_id = $1 ORDER BY version DESC LIMIT 1))) ch) AS charters
	FROM bk`

// outcomeFacts locks a booking and, in the same statement, the client's
// packs that may still pay (in id order, after the booking) and the charters
// that may judge it: the plain values Decide reads, in one round trip. A
// booking already settled locks no pack (a retry or a conflict reads nothing
// else).
func outcomeFacts(ctx context.Context, tx *sqlx.Tx, coachID, bookingID int64, asked string, now, announced time.Time) (bookingRow, OutcomeFacts, error) {
	var row struct {
		bookingRow
		Packs    []byte `db:"packs"`
		Charters []byte `db:"charters"`
	}
	err := tx.GetContext(ctx, &row, outcomeFactsSQL, coachID, bookingID, pq.Array(statusList(liveStatuses...)), DefaultCharter.GraceDays)
	if db.NoRows(err) {
		return row.bookingRow, OutcomeFacts{}, errs.NotFoundf("no booking %d", bookingID)
	}
	if err != nil {
		return row.bookingRow, OutcomeFacts{}, err
	}
	b := row.bookingRow
	f := OutcomeFacts{BookingID: b.ID, SessionID: b.SessionID, ClientID: b.ClientID, Asked: asked, Announced: announced,
		Now: now, StartsAt: b.StartsAt, BookedAt: b.CreatedAt, SessionCancelled: b.CancelledAt != nil, Recorded: b.Outcome,
		Bought: b.Bought, NewestCharter: b.NewestCharter, Currency: b.Currency}
	var charters []Charter
	if err := json.Unmarshal(row.Packs, &f.Packs); err != nil {
		return b, f, err
	}
	if err := json.Unmarshal(row.Charters, &charters); err != nil {
		return b, f, err
	}
	f.Charters = make(map[int64]Charter, len(charters))
	for _, c := range charters {
		f.Charters[c.ID] = c
	}
	return b, f, countWeeks(ctx, tx, coachID, f.Packs, b.StartsAt)
}

// countWeeks reads, once the packs are locked, each capped period pack's
// sessions in the week of at. Not in the locking statement: that one's
// snapshot is taken before it waits for another outcome on the same pack,
// whose entry it would not see, and the cap would be passed. Only a capped
// period pack pays this second statement.
func countWeeks(ctx context.Context, tx *sqlx.Tx, coachID int64, states []PackState, at time.Time) error {
	var ids []int64
	for _, p := range states {
		if p.Kind == KindPeriod && p.WeeklyCap != nil {
			ids = append(ids, p.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var counts []struct {
		ID    int64 `db:"id"`
		Count int   `db:"week_count"`
	}
	if err := tx.SelectContext(ctx, &counts, `SELECT p.id, `+weekCount("$3")+` AS week_count
		FROM packs p JOIN coaches c ON c.id = p.coach_id WHERE p.coach_id = $1 AND p.id = ANY($2)`,
		coachID, pq.Array(ids), at); err != nil {
		return err
	}
	for _, c := range counts {
		for i := range states {
			if states[i].ID == c.ID {
				states[i].WeekCount = c.Count
			}
		}
	}
	return nil
}

// RecordOutcome settles a booking exactly once: lock, load plain values,
// Decide, apply. The same outcome sent again returns the booking as it is;
// another outcome for a settled booking is a conflict.
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
		b, f, err := outcomeFacts(ctx, tx, coachID, bookingID, in.Outcome, now, announced)
		if err != nil {
			return err
		}
		d := Decide(f)
		switch {
		case d.Refusal != nil:
			return d.Refusal
		case d.Replay:
			out = b.Booking
			return nil
		}
		out, err = s.applyOutcome(ctx, tx, b, d, now, announced)
		return err
	})
	return out, err
}

// applyOutcome writes a decision: the ledger entry (and the pack's balance),
// the booking's outcome, the fee's charge. A counted session is one
// statement: the deduction, its entry and the booking's outcome.
func (s *Service) applyOutcome(ctx context.Context, tx *sqlx.Tx, b bookingRow, d Decision, now, announced time.Time) (Booking, error) {
	var packID *int64 // the pack a counted outcome was charged to
	if d.Entry != nil && d.Entry.PackID != 0 {
		packID = &d.Entry.PackID
	}
	var charterID *int64
	if d.Charter.ID != 0 {
		charterID = &d.Charter.ID
	}
	var ann *time.Time
	if d.Outcome == Cancelled || d.Outcome == LateCancelled {
		ann = &announced
	}
	var out Booking
	if d.Entry != nil {
		e := entry{CoachID: b.CoachID, ClientID: b.ClientID, PackID: d.Entry.PackID, BookingID: &b.ID, Kind: d.Entry.Kind,
			Delta: d.Entry.Delta, At: now}
		if d.Entry.Fee > 0 {
			e.Value, e.Currency = &d.Entry.Fee, &d.Entry.Currency
		}
		if e.Delta != 0 {
			var row struct {
				Booking
				Left int `db:"left_sessions"`
			}
			err := tx.GetContext(ctx, &row, moveSQL+`, booked AS (UPDATE bookings b SET outcome = $16, outcome_at = $11,
				announced_at = $17, pack_id = $3, fee_amount = $18, charter_version_id = $19
				WHERE coach_id = $1 AND id = $4 AND EXISTS (SELECT 1 FROM moved) RETURNING `+bookingCols+`)
				SELECT booked.*, (SELECT sessions_remaining FROM moved) AS left_sessions FROM booked`,
				append(moveArgs(ctx, e), d.Outcome, ann, d.Charge.Fee, charterID)...)
			if db.NoRows(err) {
				return out, notEnough(e.PackID)
			}
			if err != nil {
				return out, err
			}
			if err := afterDeduction(ctx, tx, e.PackID, row.Left); err != nil {
				return out, err
			}
			return row.Booking, s.chargeFee(ctx, tx, b.ID, d)
		}
		if err := addEntry(ctx, tx, e); err != nil {
			return out, err
		}
	}
	if err := tx.GetContext(ctx, &out, `UPDATE bookings b SET outcome = $3, outcome_at = $4, announced_at = $5,
		pack_id = $6, fee_amount = $7, charter_version_id = $8 WHERE coach_id = $1 AND id = $2 RETURNING `+bookingCols,
		b.CoachID, b.ID, d.Outcome, now, ann, packID, d.Charge.Fee, charterID); err != nil {
		return out, err
	}
	return out, s.chargeFee(ctx, tx, b.ID, d)
}

// chargeFee queues the fee's charge, in the outcome's transaction.
func (s *Service) chargeFee(ctx context.Context, tx *sqlx.Tx, bookingID int64, d Decision) error {
	if d.Charge.Fee > 0 && s.OnFee != nil {
		return s.OnFee(ctx, tx, bookingID)
	}
	return nil
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
				_, err = moveSessions(ctx, tx, e)
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

// PreviewCancellation judges a cancellation announced now without making it.
func (s *Service) PreviewCancellation(ctx context.Context, coachID, clientID, bookingID int64) (CancellationPreview, error) {
	var p CancellationPreview
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		now := s.Now().UTC()
		b, f, err := outcomeFacts(ctx, tx, coachID, bookingID, Cancelled, now, now)
		if err != nil || b.ClientID != clientID {
			return errs.NotFoundf("no booking %d", bookingID)
		}
		switch {
		case b.Outcome != nil:
			return errs.New(errs.Conflict, "booking %d is already %s", bookingID, *b.Outcome)
		case !now.Before(b.StartsAt):
			return errs.New(errs.Conflict, "the session has started; it can no longer be cancelled")
		}
		d := f.cost() // a cancellation has no refusal of its own
		ch, charge := d.Charter, d.Charge
		p = CancellationPreview{BookingID: bookingID, StartsAt: b.StartsAt, NoticeHours: ch.NoticeHours,
			FreeUntil: b.StartsAt.Add(-time.Duration(ch.NoticeHours) * time.Hour), Late: d.Outcome == LateCancelled,
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
