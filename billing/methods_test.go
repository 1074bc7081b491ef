package billing

import (
	"slices"
	"testing"
)

func TestPaymentMethods(t *testing.T) {
	for _, c := range []struct {
		currency, country, tz, plan string
		want                        []string
	}{
		{"EUR", "", "Europe/Paris", PlanUpfront, []string{"card", "sepa_debit", "paypal"}},
		{"EUR", "", "Europe/Madrid", PlanInstallments, []string{"card", "sepa_debit"}},
		{"GBP", "", "Europe/London", PlanUpfront, []string{"card", "paypal"}},
		{"USD", "", "America/New_York", PlanUpfront, []string{"card"}},
		{"JPY", "", "Europe/Paris", PlanUpfront, []string{"card"}},
		{"eur", "", "UTC", PlanUpfront, []string{"card", "sepa_debit"}},
		// A country said in the settings wins over the time zone.
		{"EUR", "FR", "UTC", PlanUpfront, []string{"card", "sepa_debit", "paypal"}},
		{"EUR", "CH", "America/Montreal", PlanUpfront, []string{"card", "sepa_debit", "paypal"}},
		{"EUR", "CA", "Europe/Paris", PlanUpfront, []string{"card", "sepa_debit"}},
		{"USD", "US", "Europe/Madrid", PlanUpfront, []string{"card"}},
		{"EUR", "ES", "Europe/Madrid", PlanInstallments, []string{"card", "sepa_debit"}},
	} {
		if got := PaymentMethods(c.currency, c.country, c.tz, c.plan); !slices.Equal(got, c.want) {
			t.Errorf("PaymentMethods(%s, %q, %s, %s) = %v, want %v", c.currency, c.country, c.tz, c.plan, got, c.want)
		}
	}
}

func TestPaidWith(t *testing.T) {
	for _, c := range []struct {
		details string
		allowed [][]string
		want    string
	}{
		{"sepa_debit", [][]string{{"card", "sepa_debit"}}, "sepa_debit"}, // the charge says it
		{"card", nil, "card"},
		{"paypal", nil, "paypal"},
		{"bancontact", nil, "other"},
		{"", [][]string{{"card", "sepa_debit"}}, ""},                           // two offered, none known
		{"", [][]string{{"card", "sepa_debit"}, {"sepa_debit"}}, "sepa_debit"}, // the session allowed one
		{"", [][]string{{"card"}}, "card"},
		{"", nil, ""},
	} {
		if got := PaidWith(c.details, c.allowed...); got != c.want {
			t.Errorf("PaidWith(%q, %v) = %q, want %q", c.details, c.allowed, got, c.want)
		}
	}
}
