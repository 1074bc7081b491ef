package packs

import (
	"context"

	"github.com/jmoiron/sqlx"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
)

// CreateOffer adds an offer to the coach's catalogue.
func (s *Service) CreateOffer(ctx context.Context, coach auth.Coach, in OfferInput) (Offer, error) {
	o, err := NewOffer(in, coach.Currency)
	if err != nil {
		return o, err
	}
	err = db.Q(ctx, s.DB).GetContext(ctx, &o, `INSERT INTO offers (coach_id, name, kind, sessions, validity_days, months,
		weekly_cap, price_amount, currency, upfront, installments)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING `+offerCols,
		coach.ID, o.Name, o.Kind, o.Sessions, o.ValidityDays, o.Months, o.WeeklyCap, o.PriceAmount,
		o.Currency, o.Upfront, o.Installments)
	return o, err
}

// Offer returns one offer of the coach, archived or not.
func (s *Service) Offer(ctx context.Context, coachID, id int64) (Offer, error) {
	return getOffer(ctx, db.Q(ctx, s.DB), coachID, id)
}

func getOffer(ctx context.Context, q sqlx.QueryerContext, coachID, id int64) (Offer, error) {
	var o Offer
	err := sqlx.GetContext(ctx, q, &o, `SELECT `+offerCols+` FROM offers WHERE coach_id = $1 AND id = $2`, coachID, id)
	if db.NoRows(err) {
		return o, errs.NotFoundf("no offer %d", id)
	}
	return o, err
}

// Offers lists the catalogue: "active" (default), "archived" or "all".
func (s *Service) Offers(ctx context.Context, coachID int64, status string, p api.Page) (api.List[Offer], error) {
	filter := map[string]string{
		"":         "AND archived_at IS NULL",
		"active":   "AND archived_at IS NULL",
		"archived": "AND archived_at IS NOT NULL",
		"all":      "",
	}
	cond, ok := filter[status]
	if !ok {
		return api.List[Offer]{}, errs.Field("status", "must be active, archived or all")
	}
	var rows []Offer
	err := db.Q(ctx, s.DB).SelectContext(ctx, &rows, `SELECT `+offerCols+` FROM offers WHERE coach_id = $1 AND id > $2 `+cond+`
		ORDER BY id LIMIT $3`, coachID, p.After, p.Limit+1)
	return api.NewList(rows, p.Limit, func(o Offer) int64 { return o.ID }), err
}

// ArchiveOffer takes an offer off sale; packs already sold keep it. Archiving
// twice is harmless and keeps the first date.
func (s *Service) ArchiveOffer(ctx context.Context, coachID, id int64) (Offer, error) {
	var o Offer
	err := db.Q(ctx, s.DB).GetContext(ctx, &o, `UPDATE offers SET archived_at = coalesce(archived_at, $3)
		WHERE coach_id = $1 AND id = $2 RETURNING `+offerCols, coachID, id, s.Now().UTC())
	if db.NoRows(err) {
		return o, errs.NotFoundf("no offer %d", id)
	}
	return o, err
}
