package metrics

import "testing"

func TestEndpoint(t *testing.T) {
	for in, want := range map[string]string{
		"/v1/customers":                          "/v1/customers",
		"/v1/customers/cus_NffrFeUfNV2Hib":       "/v1/customers/:id",
		"/v1/payment_intents/pi_3Mtw/confirm":    "/v1/payment_intents/:id/confirm",
		"/v1/subscription_schedules/sub_sched_1": "/v1/subscription_schedules/:id",
		"/v1/checkout/sessions":                  "/v1/checkout/sessions",
		"/v1/refunds":                            "/v1/refunds",
	} {
		if got := Endpoint(in); got != want {
			t.Errorf("Endpoint(%q) = %q, want %q", in, got, want)
		}
	}
}
