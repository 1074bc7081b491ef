package packs

import (
	"strings"
	"time"

	"carnet/internal/errs"
)

// Offer kinds.
const (
	KindSessions = "sessions"
	KindPeriod   = "period"
)

// DefaultValidityDays is how long a sessions pack lasts after activation
// unless the offer says otherwise.
const DefaultValidityDays = 180

// Offer is a pack a coach sells.
type Offer struct {
	ID           int64      `db:"id" json:"id"`
	CoachID      int64      `db:"coach_id" json:"-"`
	Name         string     `db:"name" json:"name"`
	Kind         string     `db:"kind" json:"kind"`
	Sessions     *int       `db:"sessions" json:"sessions,omitempty"`
	ValidityDays *int       `db:"validity_days" json:"validity_days,omitempty"`
	Months       *int       `db:"months" json:"months,omitempty"`
	WeeklyCap    *int       `db:"weekly_cap" json:"weekly_cap,omitempty"`
	PriceAmount  int64      `db:"price_amount" json:"price_amount"`
	Currency     string     `db:"currency" json:"currency"`
	Upfront      bool       `db:"upfront" json:"upfront"`
	Installments *int       `db:"installments" json:"installments,omitempty"`
	ProductID    *string    `db:"stripe_product_id" json:"-"`
	PriceID      *string    `db:"stripe_price_id" json:"-"`
	MonthlyID    *string    `db:"stripe_installment_price_id" json:"-"`
	CreatedAt    time.Time  `db:"created_at" json:"created_at"`
	ArchivedAt   *time.Time `db:"archived_at" json:"archived_at,omitempty"`
}

// OfferInput is a new offer as a coach describes it.
type OfferInput struct {
	Name         string `json:"name"`
	Kind         string `json:"kind"`
	Sessions     *int   `json:"sessions"`
	ValidityDays *int   `json:"validity_days"`
	Months       *int   `json:"months"`
	WeeklyCap    *int   `json:"weekly_cap"`
	PriceAmount  *int64 `json:"price_amount"`
	Currency     string `json:"currency"`
	Upfront      *bool  `json:"upfront"`
	Installments *int   `json:"installments"`
}

// NewOffer checks in against DESIGN's catalogue rules and returns the offer
// it describes, in the coach's currency.
func NewOffer(in OfferInput, coachCurrency string) (Offer, error) {
	o := Offer{
		Name: strings.TrimSpace(in.Name), Kind: in.Kind, Currency: coachCurrency,
		Upfront: in.Upfront == nil || *in.Upfront, Installments: in.Installments,
	}
	if o.Name == "" || len(o.Name) > 200 {
		return o, errs.Field("name", "is required (at most 200 characters)")
	}
	if in.Currency != "" && in.Currency != coachCurrency {
		return o, errs.Field("currency", "offers are sold in the coach's currency, %s", coachCurrency)
	}
	if in.PriceAmount == nil || *in.PriceAmount <= 0 {
		return o, errs.Field("price_amount", "must be a positive amount in minor units (cents)")
	}
	if *in.PriceAmount > 100_000_000 {
		return o, errs.Field("price_amount", "must be at most 100000000 minor units")
	}
	o.PriceAmount = *in.PriceAmount
	switch in.Kind {
	case KindSessions:
		if in.Sessions == nil || *in.Sessions < 5 || *in.Sessions > 20 {
			return o, errs.Field("sessions", "a sessions pack holds 5 to 20 sessions")
		}
		if in.Months != nil || in.WeeklyCap != nil {
			return o, errs.Field("months", "months and weekly_cap belong to period packs")
		}
		days := DefaultValidityDays
		if in.ValidityDays != nil {
			days = *in.ValidityDays
		}
		if days < 1 || days > 3660 {
			return o, errs.Field("validity_days", "must be from 1 to 3660 days")
		}
		if in.Installments != nil && (*in.Installments < 2 || *in.Installments > 4) {
			return o, errs.Field("installments", "a sessions pack is paid in 2 to 4 monthly installments")
		}
		o.Sessions, o.ValidityDays = in.Sessions, &days
	case KindPeriod:
		if in.Months == nil || *in.Months < 1 || *in.Months > 3 {
			return o, errs.Field("months", "a period pack lasts 1, 2 or 3 months")
		}
		if in.Sessions != nil || in.ValidityDays != nil {
			return o, errs.Field("sessions", "sessions and validity_days belong to sessions packs")
		}
		if in.WeeklyCap != nil && (*in.WeeklyCap < 1 || *in.WeeklyCap > 14) {
			return o, errs.Field("weekly_cap", "must be from 1 to 14 sessions a week")
		}
		if in.Installments != nil && (*in.Months < 2 || *in.Installments != *in.Months) {
			return o, errs.Field("installments", "a period pack is paid in as many installments as it has months (2 or 3)")
		}
		o.Months, o.WeeklyCap = in.Months, in.WeeklyCap
	default:
		return o, errs.Field("kind", "must be sessions or period")
	}
	if !o.Upfront && o.Installments == nil {
		return o, errs.Field("upfront", "an offer must be payable upfront, in installments, or both")
	}
	return o, nil
}
