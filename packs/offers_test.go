package packs

import (
	"errors"
	"testing"

	"carnet/internal/errs"
)

func TestNewOffer(t *testing.T) {
	n := func(v int) *int { return &v }
	p := func(v int64) *int64 { return &v }
	f := false
	cases := []struct {
		name  string
		in    OfferInput
		field string // "" means valid
	}{
		{"5 sessions", OfferInput{Name: "x", Kind: "sessions", Sessions: n(5), PriceAmount: p(100)}, ""},
		{"20 sessions in 4", OfferInput{Name: "x", Kind: "sessions", Sessions: n(20), PriceAmount: p(100), Installments: n(4)}, ""},
		{"4 sessions", OfferInput{Name: "x", Kind: "sessions", Sessions: n(4), PriceAmount: p(100)}, "sessions"},
		{"21 sessions", OfferInput{Name: "x", Kind: "sessions", Sessions: n(21), PriceAmount: p(100)}, "sessions"},
		{"no sessions", OfferInput{Name: "x", Kind: "sessions", PriceAmount: p(100)}, "sessions"},
		{"sessions in 1", OfferInput{Name: "x", Kind: "sessions", Sessions: n(10), PriceAmount: p(100), Installments: n(1)}, "installments"},
		{"sessions in 5", OfferInput{Name: "x", Kind: "sessions", Sessions: n(10), PriceAmount: p(100), Installments: n(5)}, "installments"},
		{"sessions with months", OfferInput{Name: "x", Kind: "sessions", Sessions: n(10), Months: n(2), PriceAmount: p(100)}, "months"},
		{"validity 0", OfferInput{Name: "x", Kind: "sessions", Sessions: n(10), ValidityDays: n(0), PriceAmount: p(100)}, "validity_days"},
		{"1 month", OfferInput{Name: "x", Kind: "period", Months: n(1), PriceAmount: p(100)}, ""},
		{"3 months in 3", OfferInput{Name: "x", Kind: "period", Months: n(3), PriceAmount: p(100), Installments: n(3), Upfront: &f}, ""},
		{"3 months in 2", OfferInput{Name: "x", Kind: "period", Months: n(3), PriceAmount: p(100), Installments: n(2)}, "installments"},
		{"1 month in 1", OfferInput{Name: "x", Kind: "period", Months: n(1), PriceAmount: p(100), Installments: n(1)}, "installments"},
		{"4 months", OfferInput{Name: "x", Kind: "period", Months: n(4), PriceAmount: p(100)}, "months"},
		{"0 months", OfferInput{Name: "x", Kind: "period", Months: n(0), PriceAmount: p(100)}, "months"},
		{"weekly cap 0", OfferInput{Name: "x", Kind: "period", Months: n(1), WeeklyCap: n(0), PriceAmount: p(100)}, "weekly_cap"},
		{"period with sessions", OfferInput{Name: "x", Kind: "period", Months: n(1), Sessions: n(5), PriceAmount: p(100)}, "sessions"},
		{"no way to pay", OfferInput{Name: "x", Kind: "period", Months: n(1), PriceAmount: p(100), Upfront: &f}, "upfront"},
		{"zero price", OfferInput{Name: "x", Kind: "period", Months: n(1), PriceAmount: p(0)}, "price_amount"},
		{"negative price", OfferInput{Name: "x", Kind: "period", Months: n(1), PriceAmount: p(-5)}, "price_amount"},
		{"no price", OfferInput{Name: "x", Kind: "period", Months: n(1)}, "price_amount"},
		{"other currency", OfferInput{Name: "x", Kind: "period", Months: n(1), PriceAmount: p(1), Currency: "USD"}, "currency"},
		{"no name", OfferInput{Name: "  ", Kind: "period", Months: n(1), PriceAmount: p(1)}, "name"},
		{"bad kind", OfferInput{Name: "x", Kind: "yearly", PriceAmount: p(1)}, "kind"},
	}
	for _, tc := range cases {
		o, err := NewOffer(tc.in, "EUR")
		var e *errs.Error
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.field != "" && err == nil:
			t.Errorf("%s: accepted", tc.name)
		case tc.field != "" && (!errors.As(err, &e) || e.Field != tc.field || e.Code != errs.Invalid):
			t.Errorf("%s: error %v, want invalid %s", tc.name, err, tc.field)
		case tc.field == "" && o.Currency != "EUR":
			t.Errorf("%s: currency %s", tc.name, o.Currency)
		}
	}
}
