package packs

import (
	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/notify"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// entryCols are the columns an entry writes, in entryArgs' order.
const entryCols = `coach_id, client_id, pack_id, booking_id, kind, delta, reason, value_amount, currency,
	goodwill_grant_id, created_at, request_ref, request_seq`

// addEntry appends e; inside an idempotent request the entry carries the
// request's reference, so a second application of the request is refused.
func addEntry(ctx context.Context, tx *sqlx.Tx, e entry) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ledger_entries (`+entryCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, entryArgs(ctx, e)...)
	return err
}

func entryArgs(ctx context.Context, e entry) []any {
	ref, seq := db.Effect(ctx)
	return []any{e.CoachID, e.ClientID, nullID(e.PackID), e.BookingID, e.Kind, e.Delta, e.Reason, e.Value, e.Currency,
		e.GrantID, e.At, ref, seq}
}

// moveSessions changes a sessions pack's balance by delta and records why, in
// the caller's transaction, in one statement. The conditional UPDATE is what
// keeps a balance from going below zero when requests race (no pack moved:
// no entry either); the pack turns exhausted at zero and active again when
// sessions come back.
func moveSessions(ctx context.Context, tx *sqlx.Tx, e entry) (int, error) {
	var left []int
	err := tx.SelectContext(ctx, &left, moveSQL+` SELECT sessions_remaining FROM moved`, moveArgs(ctx, e)...)
	if err != nil {
		return 0, err
	}
	if len(left) != 1 {
		return 0, notEnough(e.PackID)
	}
	return left[0], nil
}

func moveArgs(ctx context.Context, e entry) []any {
	return append(entryArgs(ctx, e), StatusActive, StatusExhausted)
}

// Ledger lists one client's entries, newest first.
func (s *Service) Ledger(ctx context.Context, coachID, clientID int64, p api.Page) (api.List[LedgerEntry], error) {
	if _, err := s.Client(ctx, coachID, clientID); err != nil {
		return api.List[LedgerEntry]{}, err
	}
	after := p.After
	if after == 0 {
		after = 1<<63 - 1
	}
	var rows []LedgerEntry
	err := db.Q(ctx, s.DB).SelectContext(ctx, &rows, `SELECT id, pack_id, booking_id, kind, delta, reason, value_amount,
		currency, created_at FROM ledger_entries WHERE coach_id = $1 AND client_id = $2 AND id < $3
		ORDER BY id DESC LIMIT $4`, coachID, clientID, after, p.Limit+1)
	return api.NewList(rows, p.Limit, func(e LedgerEntry) int64 { return e.ID }), err
}

// Adjust applies a manual adjustment; the reason is mandatory.
func (s *Service) Adjust(ctx context.Context, coachID, clientID int64, in AdjustmentInput) (Pack, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case in.Reason == "" || len(in.Reason) > 500:
		return Pack{}, errs.Field("reason", "is required (at most 500 characters)")
	case in.Delta == 0 || in.Delta < -100 || in.Delta > 100:
		return Pack{}, errs.Field("delta", "must be a non-zero number of sessions from -100 to 100")
	}
	var p Pack
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &p, `SELECT `+packCols+` FROM packs WHERE coach_id = $1 AND client_id = $2 AND id = $3
			FOR UPDATE`, coachID, clientID, in.PackID); err != nil {
			if db.NoRows(err) {
				return errs.Field("pack_id", "client %d has no pack %d", clientID, in.PackID)
			}
			return err
		}
		if p.Kind != KindSessions || p.ActivatedAt == nil {
			return errs.Field("pack_id", "only an activated sessions pack has a balance to adjust")
		}
		_, err := moveSessions(ctx, tx, entry{CoachID: coachID, ClientID: clientID, PackID: p.ID, Kind: "adjustment",
			Delta: in.Delta, Reason: in.Reason, At: s.Now().UTC()})
		if err != nil {
			return err
		}
		return tx.GetContext(ctx, &p, `SELECT `+packCols+` FROM packs WHERE id = $1`, p.ID)
	})
	return p, err
}

// GrantGoodwill gives each client the item, all or nothing. Sessions go to
// the client's sessions pack that expires first; a client who holds only a
// period pack gets a credit of their own (a free sessions pack, valid as
// long as their period pack and at least DefaultValidityDays); a client with
// no pack at all refuses the whole grant. A consultation needs no pack.
func (s *Service) GrantGoodwill(ctx context.Context, coach auth.Coach, in GoodwillInput) ([]GoodwillGrant, error) {
	if err := in.validate(); err != nil {
		return nil, err
	}
	// Lock clients' packs in one global order, so that two grants naming the
	// same clients in another order never wait on each other.
	ids := slices.Clone(in.ClientIDs)
	slices.Sort(ids)
	if len(slices.Compact(slices.Clone(ids))) != len(ids) {
		return nil, errs.Field("client_ids", "name each client once")
	}
	grants := []GoodwillGrant{}
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		now := s.Now().UTC()
		minutes := in.Minutes
		var made *madeUpFor
		if in.Item == ItemSessions {
			// Time given: the sessions at the length of the session made up for.
			length := 60
			if in.SessionID != nil {
				if err := tx.GetContext(ctx, &length, `SELECT duration_minutes FROM sessions WHERE coach_id = $1 AND id = $2`,
					coach.ID, *in.SessionID); err != nil {
					if db.NoRows(err) {
						return errs.Field("session_id", "no session %d", *in.SessionID)
					}
					return err
				}
			}
			minutes = in.Sessions * length
		} else if in.SessionID != nil {
			// The message names the session made up for.
			made = &madeUpFor{}
			if err := tx.GetContext(ctx, made, `SELECT title, starts_at FROM sessions WHERE coach_id = $1 AND id = $2`,
				coach.ID, *in.SessionID); err != nil {
				if db.NoRows(err) {
					return errs.Field("session_id", "no session %d", *in.SessionID)
				}
				return err
			}
		}
		var grantID int64
		if err := tx.GetContext(ctx, &grantID, `INSERT INTO goodwill_grants (coach_id, session_id, incident, item, sessions,
			minutes, value_amount, currency, note, clients, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			RETURNING id`, coach.ID, in.SessionID, in.Incident, in.Item, in.Sessions, minutes, in.ValueAmount, coach.Currency,
			in.Note, len(ids), now); err != nil {
			return err
		}
		for _, clientID := range ids {
			client, err := getClient(ctx, tx, coach.ID, clientID, false)
			if err != nil {
				return errs.Field("client_ids", "no client %d", clientID)
			}
			value, cur := in.ValueAmount, coach.Currency
			e := entry{CoachID: coach.ID, ClientID: clientID, Kind: "goodwill", Reason: in.Note, Value: &value,
				Currency: &cur, GrantID: &grantID, At: now}
			g := GoodwillGrant{GrantID: grantID, ClientID: clientID, Item: in.Item, Minutes: minutes, Value: value}
			if in.Item == ItemConsultation {
				// Given in person: the ledger records it and its value, no balance moves.
				if err := addEntry(ctx, tx, e); err != nil {
					return err
				}
				if err := notifyConsultation(ctx, tx, coach, client, grantID, in, made); err != nil {
					return err
				}
				grants = append(grants, g)
				continue
			}
			packID, err := goodwillPack(ctx, tx, coach.ID, clientID, now)
			if err != nil {
				return err
			}
			e.PackID, e.Delta = packID, in.Sessions
			if _, err := moveSessions(ctx, tx, e); err != nil {
				return err
			}
			var entryID int64
			if err := tx.GetContext(ctx, &entryID, `SELECT max(id) FROM ledger_entries WHERE pack_id = $1 AND kind = 'goodwill'`, packID); err != nil {
				return err
			}
			if err := NotifyClient(ctx, tx, packID, notify.GoodwillGranted, fmt.Sprintf("goodwill:%d", entryID),
				map[string]any{"Sessions": in.Sessions, "Reason": in.Note}); err != nil {
				return err
			}
			g.PackID, g.Sessions = packID, in.Sessions
			grants = append(grants, g)
		}
		return nil
	})
	return grants, err
}

// goodwillPack is the pack that takes a client's goodwill sessions: their
// sessions pack that expires first, else a credit of their own beside their
// period pack.
func goodwillPack(ctx context.Context, tx *sqlx.Tx, coachID, clientID int64, now time.Time) (int64, error) {
	states, err := lockPacks(ctx, tx, coachID, clientID)
	if err != nil {
		return 0, err
	}
	pick, period, ok := GoodwillPack(states, now)
	switch {
	case ok && period == nil:
		return pick.ID, nil
	case !ok:
		return 0, errs.Field("client_ids", "client %d has no valid pack to credit", clientID)
	}
	until := now.AddDate(0, 0, DefaultValidityDays)
	if period.ValidUntil.After(until) {
		until = *period.ValidUntil
	}
	// A free sessions pack: no price, nothing credited by purchase; its
	// sessions are the goodwill entry's, so its balance is its ledger.
	var id int64
	err = tx.GetContext(ctx, &id, `INSERT INTO packs (coach_id, client_id, offer_id, charter_version_id, kind, status, plan,
		price_amount, currency, sessions_credited, sessions_remaining, validity_days, activated_at, valid_until)
		SELECT coach_id, client_id, offer_id, charter_version_id, 'sessions', $6, 'manual', 0, currency, 0, 0,
			$3, $4, $5 FROM packs WHERE coach_id = $1 AND id = $2 RETURNING id`,
		coachID, period.ID, DefaultValidityDays, now, until, StatusActive)
	return id, err
}

// weekCount is how many sessions period pack p (its coach c) counted in
// the week (coach's time zone) of the time parameter at ("$4"): what its
// weekly cap is measured by.
func weekCount(at string) string {
	return `(SELECT count(*) FROM ledger_entries e JOIN bookings b ON b.id = e.booking_id
		   JOIN sessions s ON s.id = b.session_id
		  WHERE e.pack_id = p.id AND e.kind IN ('attended', 'no_show', 'late_cancel')
		    AND date_trunc('week', s.starts_at AT TIME ZONE c.timezone) = date_trunc('week', ` + at + `::timestamptz AT TIME ZONE c.timezone)
		    AND NOT EXISTS (SELECT 1 FROM ledger_entries w WHERE w.booking_id = e.booking_id AND w.kind = 'waiver'))`
}

// lockPacks locks a client's packs that may still pay, in id order (so two
// transactions never wait on each other in a cycle), in one statement.
// Their week's counts are not read (see countWeeks).
func lockPacks(ctx context.Context, tx *sqlx.Tx, coachID, clientID int64) ([]PackState, error) {
	var states []PackState
	err := tx.SelectContext(ctx, &states, livePacksSQL("$2"), coachID, clientID,
		pq.Array(statusList(liveStatuses...)), DefaultCharter.GraceDays)
	return states, err
}

// livePacksSQL locks coach $1's packs of client (an expression) whose status
// is in $3, as PackStates without their week's count; $4 is the defaults'
// grace days.
func livePacksSQL(client string) string {
	return `SELECT p.id, p.kind, p.status, p.sessions_remaining, p.activated_at,
		p.valid_until, p.overdue_since, p.weekly_cap,
		coalesce(cv.grace_days, $4) AS grace_days, p.charter_version_id
		FROM packs p LEFT JOIN charter_versions cv ON cv.id = p.charter_version_id
		WHERE p.coach_id = $1 AND p.client_id = ` + client + ` AND p.status = ANY($3)
		ORDER BY p.id FOR UPDATE OF p`
}

// moveSQL moves the pack (moved: its balance after) and appends the entry
// when it moved; the caller adds its own CTEs and the final SELECT. Its
// parameters are moveArgs'; a caller's own start at $16.
const moveSQL = `WITH moved AS (UPDATE packs SET sessions_remaining = sessions_remaining + $6,
		status = CASE WHEN status = $14 AND sessions_remaining + $6 = 0 THEN $15
			WHEN status = $15 AND sessions_remaining + $6 > 0 THEN $14 ELSE status END,
		updated_at = $11
		WHERE coach_id = $1 AND id = $3 AND kind = 'sessions' AND sessions_remaining + $6 >= 0
		RETURNING sessions_remaining),
	entry AS (INSERT INTO ledger_entries (` + entryCols + `)
		SELECT $1::bigint, $2::bigint, $3::bigint, $4::bigint, $5::text, $6::int, $7::text, $8::bigint, $9::text,
			$10::bigint, $11::timestamptz, $12::text, $13::int FROM moved)`
