package packs

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/auth"
	"carnet/internal/errs"
)

// EndRelationship ends a client's relationship with the coach in the
// caller's transaction, as the charter the client accepted says (the one
// of their newest pack, else the current one): their live packs run on
// (finish), or are written off, refunded (refund, the caller refunds the
// money) or expired (nothing), and their unpaid installments cancelled.
// Ending twice is a conflict.
func EndRelationship(ctx context.Context, tx *sqlx.Tx, coach auth.Coach, clientID int64, reason string, now time.Time) (Ending, error) {
	reason = strings.TrimSpace(reason)
	e := Ending{ClientID: clientID, EndedAt: now, Reason: reason, Currency: coach.Currency, Packs: []EndedPack{}}
	if len(reason) > 500 {
		return e, errs.Field("reason", "must be at most 500 characters")
	}
	if _, err := getClient(ctx, tx, coach.ID, clientID, true); err != nil {
		return e, err
	}
	if ended, err := ClientEnded(ctx, tx, coach.ID, clientID); err != nil || ended {
		return e, cmpErr(err, errs.New(errs.Conflict, "the relationship with client %d has already ended", clientID))
	}
	// A pack bought before any charter names none (NULL): the defaults.
	var charterIDs []sql.NullInt64
	if err := tx.SelectContext(ctx, &charterIDs, `SELECT charter_version_id FROM packs WHERE coach_id = $1 AND client_id = $2
		AND activated_at IS NOT NULL ORDER BY activated_at DESC, id DESC LIMIT 1`, coach.ID, clientID); err != nil {
		return e, err
	}
	var ch Charter
	var err error
	if len(charterIDs) == 1 {
		var id *int64
		if charterIDs[0].Valid {
			id = &charterIDs[0].Int64
		}
		if ch, err = charterByID(ctx, tx, coach.ID, id); err == nil && ch.ID != 0 {
			one := []Charter{ch}
			err = endTerms(ctx, tx, one)
			ch = one[0]
		}
	} else {
		ch, err = currentCharter(ctx, tx, coach)
	}
	if err != nil {
		return e, err
	}
	e.Unused = ch.EndUnused
	if ch.ID != 0 {
		e.CharterID = &ch.ID
	}
	loc, err := time.LoadLocation(coach.Timezone)
	if err != nil {
		loc = time.UTC
	}
	if err := tx.SelectContext(ctx, &e.Packs, `SELECT id, kind, plan, price_amount, sessions_credited, sessions_remaining,
		activated_at, valid_until FROM packs WHERE coach_id = $1 AND client_id = $2
		AND status = ANY($4) AND activated_at IS NOT NULL AND valid_until > $3
		ORDER BY id FOR UPDATE`, coach.ID, clientID, now, pq.Array(statusList(liveStatuses...))); err != nil {
		return e, err
	}
	why := "relationship ended"
	if reason != "" {
		why += ": " + reason
	}
	var ids []int64
	for i := range e.Packs {
		p := &e.Packs[i]
		ids = append(ids, p.PackID)
		if p.Kind == KindSessions {
			p.Earned = EarnedSessions(p.Price, p.Credited, p.Remaining)
		} else {
			p.Earned = PeriodEarnedBy(p.Price, p.Activated, p.ValidUntil, time.Time{}, now, loc)
		}
		switch e.Unused {
		case EndRefund:
			err = EndRefunded(ctx, tx, p.PackID, why, now)
		case EndNothing:
			if p.Remaining > 0 {
				err = addEntry(ctx, tx, entry{CoachID: coach.ID, ClientID: clientID, PackID: p.PackID, Kind: "expiry",
					Delta: -p.Remaining, Reason: why, At: now})
			}
			if err == nil {
				// Its validity ends now: a period pack has then earned its price.
				_, err = tx.ExecContext(ctx, `UPDATE packs SET status = $3, sessions_remaining = 0, valid_until = $2,
					overdue_since = NULL, updated_at = $2 WHERE id = $1 AND status = ANY($4)`, p.PackID, now,
					StatusExpired, pq.Array(MovableTo(StatusExpired)))
			}
		}
		if err != nil {
			return e, err
		}
	}
	if e.Unused != EndFinish && len(ids) > 0 {
		// No service left to pay for: nothing more is collected.
		if _, err := tx.ExecContext(ctx, `UPDATE installments SET status = 'cancelled' WHERE pack_id = ANY($1)
			AND status IN ('due', 'failed')`, pq.Array(ids)); err != nil {
			return e, err
		}
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO client_endings (coach_id, client_id, ended_at, unused, charter_version_id, reason)
		VALUES ($1, $2, $3, $4, $5, $6)`, coach.ID, clientID, now, e.Unused, e.CharterID, reason)
	return e, err
}

// ClientEnded tells whether the coach ended the relationship with a client.
func ClientEnded(ctx context.Context, q sqlx.QueryerContext, coachID, clientID int64) (bool, error) {
	var ended bool
	err := sqlx.GetContext(ctx, q, &ended, `SELECT EXISTS (SELECT 1 FROM client_endings WHERE coach_id = $1 AND client_id = $2)`,
		coachID, clientID)
	return ended, err
}

// notBookable lists the clients among ids who may not be booked: their
// relationship ended, unless they are finishing the sessions they hold.
func notBookable(ctx context.Context, q sqlx.QueryerContext, coachID int64, ids []int64, at time.Time) ([]int64, error) {
	var out []int64
	err := sqlx.SelectContext(ctx, q, &out, `SELECT e.client_id FROM client_endings e WHERE e.coach_id = $1
		AND e.client_id = ANY($2) AND NOT (e.unused = 'finish' AND EXISTS (SELECT 1 FROM packs p
			WHERE p.coach_id = e.coach_id AND p.client_id = e.client_id AND p.status IN `+StatusSQL(liveStatuses...)+`
			AND p.valid_until > $3 AND (p.kind = 'period' OR p.sessions_remaining > 0)))
		ORDER BY 1`, coachID, pq.Array(ids), at)
	return out, err
}

// endedConflict is the error for selling to a client whose relationship ended.
func endedConflict(ctx context.Context, q sqlx.QueryerContext, coachID, clientID int64) error {
	ended, err := ClientEnded(ctx, q, coachID, clientID)
	if err != nil || !ended {
		return err
	}
	return errs.New(errs.Conflict, "the relationship with client %d has ended: nothing more can be sold to them", clientID)
}
