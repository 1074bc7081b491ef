package metrics

import (
	"strings"
	"unicode"
)

// Endpoint names a Stripe API path without its object ids, so each
// endpoint is one series: "/v1/customers/cus_123" is "/v1/customers/:id".
// An id is a prefix, an underscore and a random part holding digits or
// capitals ("cus_NffrFeUfNV2Hib"); a path's words ("payment_intents",
// "cancel") hold neither.
func Endpoint(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.Contains(p, "_") && strings.ContainsFunc(p, func(r rune) bool { return unicode.IsDigit(r) || unicode.IsUpper(r) }) {
			parts[i] = ":id"
		}
	}
	return strings.Join(parts, "/")
}
