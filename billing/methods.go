package billing

import (
	"strings"

	"github.com/stripe/stripe-go/v76"
)

// paypalCurrencies are those Stripe settles PayPal in for accounts in the
// European Economic Area, the United Kingdom and Switzerland, the only
// places Stripe offers PayPal.
var paypalCurrencies = map[string]bool{"EUR": true, "GBP": true, "USD": true, "CHF": true, "CZK": true,
	"DKK": true, "NOK": true, "PLN": true, "SEK": true, "HUF": true}

// paypalCountries are those places (ISO 3166 alpha-2): the EEA, the United
// Kingdom and Switzerland.
var paypalCountries = map[string]bool{"AT": true, "BE": true, "BG": true, "HR": true, "CY": true, "CZ": true,
	"DK": true, "EE": true, "FI": true, "FR": true, "DE": true, "GR": true, "HU": true, "IE": true, "IT": true,
	"LV": true, "LI": true, "LT": true, "LU": true, "MT": true, "NL": true, "NO": true, "PL": true, "PT": true,
	"RO": true, "SK": true, "SI": true, "ES": true, "SE": true, "IS": true, "GB": true, "CH": true}

// PaymentMethods lists how a client may pay a plan at Checkout, for a coach
// who sells in currency from country (ISO 3166 alpha-2, as set in the
// coach's settings): card always; SEPA Direct Debit in euros; PayPal for a
// payment upfront where Stripe offers it (its recurring debits need Stripe's
// separate approval, so installments are card or SEPA). A coach who has not
// said their country is taken to be in Europe when their time zone is.
func PaymentMethods(currency, country, timezone, plan string) []string {
	currency = strings.ToUpper(currency)
	out := []string{"card"}
	if currency == "EUR" {
		out = append(out, "sepa_debit")
	}
	inPayPalCountry := paypalCountries[strings.ToUpper(country)]
	if country == "" {
		inPayPalCountry = strings.HasPrefix(timezone, "Europe/")
	}
	if plan == PlanUpfront && paypalCurrencies[currency] && inPayPalCountry {
		out = append(out, "paypal")
	}
	return out
}

// PaidWith names how Stripe took a payment, from what an event carries: the
// charge's payment_method_details.type when the event has it, else the one
// method a PaymentIntent or Checkout Session allowed (a session that offered
// card and SEPA does not say which was chosen). "" is unknown. Methods
// Carnet does not offer are "other".
func PaidWith(detailsType string, allowed ...[]string) string {
	name := func(t string) string {
		switch t {
		case "card", "sepa_debit", "paypal":
			return t
		}
		return "other"
	}
	if detailsType != "" {
		return name(detailsType)
	}
	for _, types := range allowed {
		if len(types) == 1 && types[0] != "" {
			return name(types[0])
		}
	}
	return ""
}

// chargeMethod is the payment_method_details.type of a charge an event
// expanded ("" when it names the charge by id only).
func chargeMethod(ch *stripe.Charge) string {
	if ch == nil || ch.PaymentMethodDetails == nil {
		return ""
	}
	return string(ch.PaymentMethodDetails.Type)
}

// intentMethod is how a PaymentIntent an event carries was paid, as far as
// it says.
func intentMethod(pi *stripe.PaymentIntent) string {
	if pi == nil {
		return ""
	}
	return PaidWith(chargeMethod(pi.LatestCharge), pi.PaymentMethodTypes)
}
