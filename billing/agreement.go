package billing

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/auth"
	"carnet/internal/errs"
	"carnet/packs"
)

// planOf checks that the offer is sold by the plan asked for (upfront by
// default) and says in how many payments.
func (s *Service) planOf(ctx context.Context, coach auth.Coach, in *CheckoutInput) (packs.Offer, int, error) {
	if in.Plan == "" {
		in.Plan = PlanUpfront
	}
	offer, err := s.Packs.Offer(ctx, coach.ID, in.OfferID)
	if err != nil {
		return offer, 0, errs.Field("offer_id", "no offer %d", in.OfferID)
	}
	switch {
	case offer.ArchivedAt != nil:
		return offer, 0, errs.Field("offer_id", "offer %d is archived and no longer sold", offer.ID)
	case in.Plan == PlanUpfront && offer.Upfront:
		return offer, 1, nil
	case in.Plan == PlanInstallments && offer.Installments != nil:
		return offer, *offer.Installments, nil
	case in.Plan == PlanUpfront || in.Plan == PlanInstallments:
		return offer, 0, errs.Field("plan", "offer %d is not sold %s", offer.ID, in.Plan)
	}
	return offer, 0, errs.Field("plan", "must be upfront or installments")
}

// agreement writes the agreement of a purchase as it would start now: the
// plan's payments are the installment split checkout records.
func (s *Service) agreement(ctx context.Context, q sqlx.QueryerContext, coach auth.Coach, clientID int64, offer packs.Offer, plan string, n int, ch packs.Charter, now time.Time) (packs.AgreementDoc, error) {
	t, err := s.Packs.AgreementTerms(ctx, q, coach, clientID, offer.ID, plan, ch)
	if err != nil {
		return packs.AgreementDoc{}, err
	}
	t.On = now
	for _, d := range SplitInstallments(offer.PriceAmount, n, now) {
		t.Dues = append(t.Dues, packs.AgreementDue{At: d.DueAt, Amount: d.Amount})
	}
	return packs.RenderAgreement(t), nil
}

// Agreement is what a client reads before paying.
type Agreement struct {
	packs.AgreementDoc
	OfferID        int64  `json:"offer_id"`
	Plan           string `json:"plan"`
	CharterVersion int    `json:"charter_version"`
	Text           string `json:"text"`
	SHA256         string `json:"sha256"`
}

// AgreementToRead is the agreement a client would accept for an offer and
// plan, under the coach's current charter.
func (s *Service) AgreementToRead(ctx context.Context, who auth.ClientAuth, offerID int64, plan string) (Agreement, error) {
	coach, err := auth.CoachByID(ctx, s.DB, who.CoachID)
	if err != nil {
		return Agreement{}, err
	}
	in := CheckoutInput{OfferID: offerID, Plan: plan}
	offer, n, err := s.planOf(ctx, coach, &in)
	if err != nil {
		return Agreement{}, err
	}
	ch, err := s.Packs.CurrentCharter(ctx, s.DB, coach)
	if err != nil {
		return Agreement{}, err
	}
	doc, err := s.agreement(ctx, s.DB, coach, who.ClientID, offer, in.Plan, n, ch, s.Now().UTC())
	return Agreement{AgreementDoc: doc, OfferID: offer.ID, Plan: in.Plan, CharterVersion: ch.Version,
		Text: doc.Text(), SHA256: doc.SHA256()}, err
}
