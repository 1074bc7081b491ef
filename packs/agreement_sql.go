package packs

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
)

// insertPoints stores a new charter version's written points.
func insertPoints(ctx context.Context, tx *sqlx.Tx, ch Charter) error {
	if len(ch.Agreement) == 0 {
		return nil
	}
	b, err := json.Marshal(ch.Agreement)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO charter_agreements (charter_version_id, coach_id, points)
		VALUES ($1, $2, $3)`, ch.ID, ch.CoachID, b)
	return err
}

// loadPoints reads a charter version's written points (none for the defaults).
func loadPoints(ctx context.Context, q sqlx.QueryerContext, ch *Charter) error {
	ch.Agreement = Agreement{}
	if ch.ID == 0 {
		return nil
	}
	err := sqlx.GetContext(ctx, q, &ch.Agreement, `SELECT points FROM charter_agreements
		WHERE coach_id = $1 AND charter_version_id = $2`, ch.CoachID, ch.ID)
	if db.NoRows(err) {
		return nil
	}
	return err
}

// AgreementTerms gathers what the agreement of a purchase states, under
// charter ch, except the plan's payments (Dues), which billing splits.
func (s *Service) AgreementTerms(ctx context.Context, q sqlx.QueryerContext, coach auth.Coach, clientID, offerID int64, plan string, ch Charter) (AgreementTerms, error) {
	client, err := getClient(ctx, q, coach.ID, clientID, false)
	if err != nil {
		return AgreementTerms{}, err
	}
	o, err := getOffer(ctx, q, coach.ID, offerID)
	if err != nil {
		return AgreementTerms{}, errs.Field("offer_id", "no offer %d", offerID)
	}
	loc, err := time.LoadLocation(coach.Timezone)
	if err != nil {
		loc = time.UTC
	}
	if ch.Currency == "" {
		ch.Currency = coach.Currency
	}
	return AgreementTerms{Locale: client.Locale, Location: loc, On: s.Now().UTC(),
		CoachName: coach.Name, CoachEmail: coach.Email, CoachLocale: coach.Locale,
		ClientName: client.Name, ClientEmail: client.Email, ClientPhone: client.Phone,
		Offer: o, Plan: plan, Charter: ch}, nil
}

// Acceptance is a client's signature of one pack's agreement.
type Acceptance struct {
	PackID           int64     `db:"pack_id" json:"pack_id"`
	ClientID         int64     `db:"client_id" json:"client_id"`
	CharterVersionID *int64    `db:"charter_version_id" json:"charter_version_id"`
	CharterVersion   int       `db:"charter_version" json:"charter_version"`
	Locale           string    `db:"locale" json:"locale"`
	Text             string    `db:"text" json:"text"`
	SHA256           string    `db:"sha256" json:"text_sha256"`
	AcceptedAt       time.Time `db:"accepted_at" json:"accepted_at"`
	IP               string    `db:"ip" json:"ip"`
	UserAgent        string    `db:"user_agent" json:"user_agent"`
	// TermsAcceptedAt is Stripe's terms-of-service consent at Checkout.
	TermsAcceptedAt *time.Time `db:"terms_accepted_at" json:"terms_accepted_at"`
}

// Signature is who accepted, from where, with what, as the request tells it.
type Signature struct {
	IP        string
	UserAgent string
}

// RecordAcceptance stores the client's acceptance of doc for a pack, in the
// transaction that creates the pack.
func RecordAcceptance(ctx context.Context, tx *sqlx.Tx, p Pack, ch Charter, doc AgreementDoc, at time.Time, sig Signature) error {
	sum, err := hex.DecodeString(doc.SHA256())
	if err != nil {
		return err
	}
	if len(sig.UserAgent) > 1000 {
		sig.UserAgent = sig.UserAgent[:1000]
	}
	var charterID *int64
	if ch.ID != 0 {
		charterID = &ch.ID
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO agreement_acceptances (coach_id, client_id, pack_id, charter_version_id,
		charter_version, locale, text, text_sha256, accepted_at, ip, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, p.CoachID, p.ClientID, p.ID, charterID,
		ch.Version, doc.Locale, doc.Text(), sum, at.UTC(), sig.IP, sig.UserAgent)
	return err
}

// SignedAgreement is the agreement accepted for a pack of the coach;
// clientID, when not 0, must be the pack's holder (a client sees only theirs).
func SignedAgreement(ctx context.Context, q sqlx.QueryerContext, coachID, clientID, packID int64) (Acceptance, error) {
	var a Acceptance
	err := sqlx.GetContext(ctx, q, &a, `SELECT a.pack_id, a.client_id, a.charter_version_id, a.charter_version,
		a.locale, a.text, encode(a.text_sha256, 'hex') AS sha256, a.accepted_at, a.ip, a.user_agent, p.terms_accepted_at
		FROM agreement_acceptances a JOIN packs p ON p.id = a.pack_id
		WHERE a.coach_id = $1 AND a.pack_id = $2 AND ($3 = 0 OR a.client_id = $3)`, coachID, packID, clientID)
	if db.NoRows(err) {
		return a, errs.NotFoundf("no signed agreement for pack %d", packID)
	}
	return a, err
}
