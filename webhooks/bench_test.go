package webhooks

import (
	"testing"

	"carnet/billing"
	"carnet/internal/db"
)

// BenchmarkCardCheckoutEvents applies a card checkout's two events (as `make
// bench` sends them) in either order and reports the statements each sent:
// the count is the cost on a busy machine (a round trip each, the pack's lock
// held meanwhile), and unlike the load's average it does not depend on the
// order a shuffle chose (River's notification of new jobs, sent at most
// once in a while, adds a fraction). Run alone: the counters are the
// process's.
//
//	go test -run '^$' -bench CardCheckoutEvents -benchtime 50x ./webhooks
func BenchmarkCardCheckoutEvents(b *testing.B) {
	for _, order := range []string{"completed-first", "intent-first"} {
		b.Run(order, func(b *testing.B) {
			s := newShop(b)
			var completed, intent float64
			count := func(deliver func()) float64 {
				before := db.Statements()
				deliver()
				after := db.Statements()
				return float64(after.Prepared + after.Reused + after.Simple - before.Prepared - before.Reused - before.Simple)
			}
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				co, _ := s.checkout(billing.PlanUpfront)
				pi := "pi_" + randomID()
				cs := newEvent("checkout.session.completed", s.now, checkoutSession(co, "payment", "paid", pi, "", 45000))
				in := newEvent("payment_intent.succeeded", s.now, paymentIntent(pi, co.PackID, 45000, "succeeded"))
				// Paid by card, as `carnet stripe send card` says it.
				cs.Object["payment_method_types"], in.Object["payment_method_types"] = []string{"card"}, []string{"card"}
				b.StartTimer()
				if order == "completed-first" {
					completed += count(func() { s.deliver(cs) })
					intent += count(func() { s.deliver(in) })
				} else {
					intent += count(func() { s.deliver(in) })
					completed += count(func() { s.deliver(cs) })
				}
				b.StopTimer()
				if got, want := s.state(co.PackID), "active 10 | 1:paid | purchase10 | charge:succeeded:45000"; got != want {
					b.Fatalf("state %q, want %q", got, want)
				}
				b.StartTimer()
			}
			n := float64(b.N)
			b.ReportMetric(completed/n, "stmts/completed")
			b.ReportMetric(intent/n, "stmts/intent")
			b.ReportMetric((completed+intent)/(2*n), "stmts/event")
		})
	}
}
