package packs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/notify"
)

// NewPendingPack records a pack bought but not yet paid for, priced from its
// offer. Billing calls it when it opens a checkout; manual purchases too.
func NewPendingPack(ctx context.Context, tx *sqlx.Tx, coachID, clientID, offerID int64, plan string, installments int, charterID *int64) (Pack, error) {
	var p Pack
	if _, err := getClient(ctx, tx, coachID, clientID, false); err != nil {
		return p, err
	}
	if err := endedConflict(ctx, tx, coachID, clientID); err != nil {
		return p, err
	}
	o, err := getOffer(ctx, tx, coachID, offerID)
	if err != nil {
		return p, errs.Field("offer_id", "no offer %d", offerID)
	}
	if o.ArchivedAt != nil {
		return p, errs.Field("offer_id", "offer %d is archived and no longer sold", offerID)
	}
	err = tx.GetContext(ctx, &p, `INSERT INTO packs (coach_id, client_id, offer_id, charter_version_id, kind,
		plan, installments, price_amount, currency, months, validity_days, weekly_cap)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING `+packCols,
		coachID, clientID, offerID, charterID, o.Kind, plan, installments, o.PriceAmount, o.Currency,
		o.Months, o.ValidityDays, o.WeeklyCap)
	return p, err
}

// ActivationCols reads an Activation in the statement that locks or links
// a pack (a SELECT or a RETURNING over packs, unaliased): the offer's
// sessions and the coach's time zone come with the pack's row instead of
// in two more round trips.
const ActivationCols = `kind, validity_days, months, ` + activationExtra

const activationExtra = `(SELECT sessions FROM offers WHERE id = packs.offer_id) AS offer_sessions,
	(SELECT timezone FROM coaches WHERE id = packs.coach_id) AS coach_timezone`

// ActivatePack turns a pending pack active at the moment its first payment
// is confirmed and credits its sessions. It is what a confirmed Stripe
// payment calls; a pack already activated is returned unchanged with false,
// so a duplicate confirmation credits nothing.
func ActivatePack(ctx context.Context, tx *sqlx.Tx, coachID, packID int64, at time.Time) (Pack, bool, error) {
	var p struct {
		Pack
		OfferSessions *int    `db:"offer_sessions"`
		Timezone      *string `db:"coach_timezone"`
	}
	err := tx.GetContext(ctx, &p, `SELECT `+packCols+`, `+activationExtra+` FROM packs WHERE coach_id = $1 AND id = $2
		FOR UPDATE`, coachID, packID)
	if db.NoRows(err) {
		return p.Pack, false, errs.NotFoundf("no pack %d", packID)
	}
	if err != nil || p.Status != StatusPending {
		return p.Pack, false, err
	}
	return ActivateLocked(ctx, tx, coachID, packID, Activation{Kind: p.Kind, ValidityDays: p.ValidityDays, Months: p.Months,
		OfferSessions: p.OfferSessions, Timezone: p.Timezone}, at)
}

// ActivateLocked is ActivatePack for a caller that holds the pack's row
// lock in tx and read a with it (ActivationCols). A pack no longer pending
// is left as it is (false). The activation, its purchase entry and the
// party the purchase message names are one statement, the message another.
func ActivateLocked(ctx context.Context, tx *sqlx.Tx, coachID, packID int64, a Activation, at time.Time) (Pack, bool, error) {
	if a.Kind == "" {
		return Pack{}, false, fmt.Errorf("activate pack %d: its activation was not read (ActivationCols)", packID)
	}
	at = at.UTC()
	until, credit := a.Terms(at)
	ref, seq := db.Effect(ctx) // the purchase entry's, before the message's
	var rows []partyRow
	if err := tx.SelectContext(ctx, &rows, `WITH act AS (UPDATE packs SET status = $6, activated_at = $3, valid_until = $4,
			sessions_credited = $5, sessions_remaining = $5, updated_at = $3
			WHERE coach_id = $1 AND id = $2 AND status = $7 RETURNING `+packCols+`),
		entry AS (INSERT INTO ledger_entries (`+entryCols+`)
			SELECT coach_id, client_id, id, NULL, 'purchase', $5::int, '', NULL, NULL, NULL, $3::timestamptz, $8::text, $9::int FROM act)
		SELECT p.*, `+partySQL+` FROM act p `+partyJoins,
		coachID, packID, at, until, credit, StatusActive, StatusPending, ref, seq); err != nil || len(rows) == 0 {
		return Pack{}, false, err
	}
	r := rows[0]
	err := r.notify(ctx, tx, notify.PackPurchased, fmt.Sprintf("pack:%d:purchased", r.ID), nil)
	return r.Pack, err == nil, err
}

// RecordManualPack creates an active pack for a payment the coach received by
// hand, under the current charter, with its purchase credit.
func (s *Service) RecordManualPack(ctx context.Context, coach auth.Coach, clientID int64, in ManualPackInput) (Pack, error) {
	if in.OfferID <= 0 {
		return Pack{}, errs.Field("offer_id", "is required")
	}
	if !manualMethods[in.Method] {
		return Pack{}, errs.Field("method", "must be bank_transfer, cash or other")
	}
	if len(in.Reference) > 200 {
		return Pack{}, errs.Field("reference", "must be at most 200 characters")
	}
	var p Pack
	err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		ch, err := s.CurrentCharter(ctx, tx, coach)
		if err != nil {
			return err
		}
		var charterID *int64
		if ch.ID != 0 {
			charterID = &ch.ID
		}
		if p, err = NewPendingPack(ctx, tx, coach.ID, clientID, in.OfferID, PlanManual, 1, charterID); err != nil {
			return err
		}
		now := s.Now().UTC()
		ref, seq := db.Effect(ctx)
		if _, err := tx.ExecContext(ctx, `INSERT INTO payments (coach_id, pack_id, kind, status, amount, currency,
			stripe_object_id, occurred_at, request_ref, request_seq) VALUES ($1, $2, 'manual', $3, $4, $5, NULL, $6, $7, $8)`,
			coach.ID, p.ID, in.Method+":"+strings.TrimSpace(in.Reference), p.PriceAmount, p.Currency, now, ref, seq); err != nil {
			return err
		}
		p, _, err = ActivatePack(ctx, tx, coach.ID, p.ID, now)
		return err
	})
	return p, err
}
