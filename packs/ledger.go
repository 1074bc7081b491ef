package packs

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/notify"
)

// entry is one append-only ledger line. Delta is in sessions.
type entry struct {
	CoachID, ClientID, PackID int64
	BookingID                 *int64
	Kind                      string
	Delta                     int
	Reason                    string
	Value                     *int64
	Currency                  *string
	GrantID                   *int64 // the goodwill grant a goodwill entry belongs to
	At                        time.Time
}

// addEntry appends e; inside an idempotent request the entry carries the
// request's reference, so a second application of the request is refused.
func addEntry(ctx context.Context, tx *sqlx.Tx, e entry) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO ledger_entries (`+entryCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`, entryArgs(ctx, e)...)
	return err
}

// entryCols are the columns an entry writes, in entryArgs' order.
const entryCols = `coach_id, client_id, pack_id, booking_id, kind, delta, reason, value_amount, currency,
	goodwill_grant_id, created_at, request_ref, request_seq`

func entryArgs(ctx context.Context, e entry) []any {
	ref, seq := db.Effect(ctx)
	return []any{e.CoachID, e.ClientID, nullID(e.PackID), e.BookingID, e.Kind, e.Delta, e.Reason, e.Value, e.Currency,
		e.GrantID, e.At, ref, seq}
}

// nullID is NULL for 0: a fee owed without a pack has no pack.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
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

func moveArgs(ctx context.Context, e entry) []any {
	return append(entryArgs(ctx, e), StatusActive, StatusExhausted)
}

func notEnough(packID int64) error {
	return errs.New(errs.InsufficientBalance, "pack %d has not enough sessions left", packID)
}

// LedgerEntry is a ledger line as people read it.
type LedgerEntry struct {
	ID          int64     `db:"id" json:"id"`
	PackID      *int64    `db:"pack_id" json:"pack_id"`
	BookingID   *int64    `db:"booking_id" json:"booking_id,omitempty"`
	Kind        string    `db:"kind" json:"kind"`
	Delta       int       `db:"delta" json:"delta"`
	Reason      string    `db:"reason" json:"reason,omitempty"`
	ValueAmount *int64    `db:"value_amount" json:"value_amount,omitempty"`
	Currency    *string   `db:"currency" json:"currency,omitempty"`
	CreatedAt   time.Time `db:"created_at" json:"created_at"`
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

// AdjustmentInput is a manual correction of one pack's balance.
type AdjustmentInput struct {
	PackID int64  `json:"pack_id"`
	Delta  int    `json:"delta"`
	Reason string `json:"reason"`
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

// GoodwillInput compensates several clients at once after an incident:
// linked to the session or the incident it makes up for, it gives each
// client either sessions or another item (a consultation of Minutes, worth
// ValueAmount).
type GoodwillInput struct {
	ClientIDs   []int64 `json:"client_ids"`
	SessionID   *int64  `json:"session_id"`
	Incident    string  `json:"incident"`
	Item        string  `json:"item"` // sessions (the default) or consultation
	Sessions    int     `json:"sessions"`
	Minutes     int     `json:"minutes"` // a consultation's length
	Note        string  `json:"note"`
	ValueAmount int64   `json:"value_amount"` // what it costs the coach, per client, minor units
}

// Goodwill items.
const (
	ItemSessions     = "sessions"
	ItemConsultation = "consultation"
)

// GoodwillGrant is what one client received.
type GoodwillGrant struct {
	GrantID  int64  `json:"grant_id"`
	ClientID int64  `json:"client_id"`
	Item     string `json:"item"`
	PackID   int64  `json:"pack_id,omitempty"` // the pack credited with the sessions
	Sessions int    `json:"sessions"`
	Minutes  int    `json:"minutes"`
	Value    int64  `json:"value_amount"`
}

func (in *GoodwillInput) validate() error {
	in.Note, in.Incident = strings.TrimSpace(in.Note), strings.TrimSpace(in.Incident)
	if in.Item == "" {
		in.Item = ItemSessions
	}
	switch {
	case len(in.ClientIDs) == 0 || len(in.ClientIDs) > 500:
		return errs.Field("client_ids", "name 1 to 500 clients")
	case in.SessionID == nil && in.Incident == "":
		return errs.Field("session_id", "name the session (session_id) or the incident (incident) this makes up for")
	case len(in.Incident) > 200:
		return errs.Field("incident", "must be at most 200 characters")
	case in.Item != ItemSessions && in.Item != ItemConsultation:
		return errs.Field("item", "must be sessions or consultation")
	case in.Item == ItemSessions && (in.Sessions < 1 || in.Sessions > 20):
		return errs.Field("sessions", "must be from 1 to 20")
	case in.Item == ItemConsultation && in.Sessions != 0:
		return errs.Field("sessions", "a consultation gives no sessions; set minutes")
	case in.Item == ItemConsultation && (in.Minutes < 5 || in.Minutes > 480):
		return errs.Field("minutes", "a consultation lasts from 5 to 480 minutes")
	case in.Note == "" || len(in.Note) > 500:
		return errs.Field("note", "is required (at most 500 characters)")
	case in.ValueAmount < 0:
		return errs.Field("value_amount", "must not be negative")
	}
	return nil
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

func cmpErr(err, otherwise error) error {
	if err != nil {
		return err
	}
	return otherwise
}

// goodwillPack is the pack that takes a client's goodwill sessions: their
// sessions pack that expires first, else a credit of their own beside their
// period pack.
func goodwillPack(ctx context.Context, tx *sqlx.Tx, coachID, clientID int64, now time.Time) (int64, error) {
	states, err := lockPacks(ctx, tx, coachID, clientID, now)
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
// transactions never wait on each other in a cycle), in one statement, with
// each capped period pack's count for the week of at: the count is the
// costly part, and only a weekly cap reads it.
func lockPacks(ctx context.Context, tx *sqlx.Tx, coachID, clientID int64, at time.Time) ([]PackState, error) {
	var states []PackState
	err := tx.SelectContext(ctx, &states, `SELECT p.id, p.kind, p.status, p.sessions_remaining, p.activated_at,
		p.valid_until, p.overdue_since, p.weekly_cap,
		coalesce(cv.grace_days, $4) AS grace_days, p.charter_version_id,
		CASE WHEN p.kind = 'period' AND p.weekly_cap IS NOT NULL THEN `+weekCount("$5")+` ELSE 0 END AS week_count
		FROM packs p JOIN coaches c ON c.id = p.coach_id
		LEFT JOIN charter_versions cv ON cv.id = p.charter_version_id
		WHERE p.coach_id = $1 AND p.client_id = $2 AND p.status = ANY($3)
		ORDER BY p.id FOR UPDATE OF p`, coachID, clientID, pq.Array(statusList(liveStatuses...)),
		DefaultCharter.GraceDays, at)
	return states, err
}

func (s *Service) postAdjustment(c *gin.Context, coach auth.Coach, id int64) {
	if _, err := s.Client(c.Request.Context(), coach.ID, id); err != nil {
		api.Fail(c, err)
		return
	}
	var in AdjustmentInput
	if decodeInto(c, &in) {
		p, err := s.Adjust(c.Request.Context(), coach.ID, id, in)
		api.Respond(c, http.StatusCreated, p, err)
	}
}

func (s *Service) postGoodwill(c *gin.Context) {
	var in GoodwillInput
	if decodeInto(c, &in) {
		grants, err := s.GrantGoodwill(c.Request.Context(), auth.CoachOf(c), in)
		api.Respond(c, http.StatusCreated, gin.H{"data": grants}, err)
	}
}

func (s *Service) getLedger(c *gin.Context, coach auth.Coach, id int64) {
	s.ledgerOf(c, coach.ID, id)
}

func (s *Service) getMyLedger(c *gin.Context) {
	who := auth.ClientOf(c)
	s.ledgerOf(c, who.CoachID, who.ClientID)
}

func (s *Service) ledgerOf(c *gin.Context, coachID, clientID int64) {
	p, err := api.ParsePage(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	list, err := s.Ledger(c.Request.Context(), coachID, clientID, p)
	api.Respond(c, http.StatusOK, list, err)
}
