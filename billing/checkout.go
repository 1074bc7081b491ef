package billing

import (
	"context"
	"errors"
	"strconv"

	"github.com/jmoiron/sqlx"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/packs"
)

// Plans a pack can be paid by through Stripe (packs holds them, so that
// its rules compare the same constants).
const (
	PlanUpfront      = packs.PlanUpfront
	PlanInstallments = packs.PlanInstallments
)

// CheckoutInput asks for a checkout page for one client and one offer.
type CheckoutInput struct {
	ClientID int64  `json:"client_id"`
	OfferID  int64  `json:"offer_id"`
	Plan     string `json:"plan"`
	// AgreementSHA256 is the hash of the agreement text the client read
	// (GET /v1/me/agreement) and accepts; a client's own checkout needs it.
	AgreementSHA256 string `json:"agreement_sha256"`
	// Signer is set for a client's own checkout: the acceptance is recorded
	// with the pack, from this address and browser.
	Signer *packs.Signature `json:"-"`
}

// Checkout is where the client pays.
type Checkout struct {
	PackID    int64  `json:"pack_id"`
	SessionID string `json:"checkout_session_id"`
	URL       string `json:"url"`
}

// providerFailed is what the caller is told when Stripe fails during a
// checkout: plain words, never Stripe's text or address; the cause stays
// in the error chain for the logs.
func providerFailed(err error) error {
	return errs.Wrap(err, errs.Unavailable, "Stripe did not answer; nothing was charged; try again")
}

// StartCheckout opens a pending pack with its expected payments, then a
// Stripe Checkout Session for it. Every Stripe call carries a key derived
// from our rows, so a retry after a crash asks Stripe for the same things.
func (s *Service) StartCheckout(ctx context.Context, coach auth.Coach, in CheckoutInput) (Checkout, error) {
	offer, n, err := s.planOf(ctx, coach, &in)
	if err != nil {
		return Checkout{}, err
	}
	client, err := s.Packs.Client(ctx, coach.ID, in.ClientID)
	if err != nil {
		return Checkout{}, err
	}
	// The pending pack and its plan are committed before Stripe is called,
	// whatever becomes of the request, so that the events of its Checkout
	// Session always find it. A retry of the same request takes the pack its
	// first run claimed, and so asks Stripe for the same session.
	claim := db.Detach(ctx)
	pack, plan, err := s.claimCheckout(claim, coach, client, offer, in, n, db.RequestRefOf(ctx))
	if err != nil {
		return Checkout{}, err
	}
	out, err := s.openSession(ctx, coach, client, offer, pack, plan)
	if err != nil {
		// The pack never reached a checkout page: it and the payments it
		// expected are cancelled, even if the caller has gone (a retry of
		// the same request opens them again).
		claim := context.WithoutCancel(claim)
		return Checkout{}, errors.Join(err, db.InTx(claim, s.DB, func(tx *sqlx.Tx) error { return abandon(claim, tx, pack.ID, s.Now().UTC()) }))
	}
	return out, nil
}

// LocalCheckoutURL is the local checkout page of a pending pack, with a
// token that opens it (without Stripe: STRIPE_SECRET_KEY unset).
func (s *Service) LocalCheckoutURL(packID int64) string {
	return s.BaseURL + "/checkout/local/" + strconv.FormatInt(packID, 10) + "?token=" + s.Packs.Links.IssueCheckout(packID)
}
