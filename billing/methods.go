package billing

import "strings"

// paypalCurrencies are those Stripe settles PayPal in for accounts in the
// European Economic Area, the United Kingdom and Switzerland, the only
// places Stripe offers PayPal.
var paypalCurrencies = map[string]bool{"EUR": true, "GBP": true, "USD": true, "CHF": true, "CZK": true,
	"DKK": true, "NOK": true, "PLN": true, "SEK": true, "HUF": true}

// PaymentMethods lists how a client may pay a plan at Checkout, for a coach
// who sells in currency and lives in timezone (Carnet knows no country; a
// European zone stands for a European account): card always; SEPA Direct
// Debit in euros; PayPal for a payment upfront in Europe (its recurring
// debits need Stripe's separate approval, so installments are card or SEPA).
func PaymentMethods(currency, timezone, plan string) []string {
	currency = strings.ToUpper(currency)
	out := []string{"card"}
	if currency == "EUR" {
		out = append(out, "sepa_debit")
	}
	if plan == PlanUpfront && paypalCurrencies[currency] && strings.HasPrefix(timezone, "Europe/") {
		out = append(out, "paypal")
	}
	return out
}
