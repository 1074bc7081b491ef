package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/auth"
	"carnet/internal/failpoint"
	"carnet/internal/stripefault"
	"carnet/internal/testdb"
	"carnet/localstripe"
)

// world is one database with the processes that serve it, as a coach and
// Stripe see them.
type world struct {
	t      *testing.T
	d      *sqlx.DB
	url    string
	stripe *stripefault.Proxy
	token  string
	p      *proc // the process serving now

	calls                        []call   // every request sent, with its key
	events                       [][]byte // every event delivered
	client, offer, pack, session string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, d: testdb.New(t)}
	w.url = testdb.URLOf(t, w.d)
	w.stripe = stripefault.New(t, os.Getenv("STRIPE_API_BASE"))
	_, key, err := auth.CreateCoach(context.Background(), w.d, auth.NewCoach{Name: "Camille", Email: "camille@example.com",
		Currency: "EUR", Timezone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	w.token = key
	return w
}

// setUp creates a client with a paid 10-session pack and a session held two
// hours ago, through the API, each request sent by send with its key.
func (w *world) setUp(send func(call) answer) {
	w.t.Helper()
	idOf := func(a answer) string { return fmt.Sprint(int64(a.json(w.t)["id"].(float64))) }
	w.client = idOf(send(call{path: "/v1/clients", key: "setup-client", body: map[string]any{"name": "Léa", "email": "lea@example.com"}}))
	w.offer = idOf(send(call{path: "/v1/offers", key: "setup-offer", body: map[string]any{"name": "10 séances", "kind": "sessions",
		"sessions": 10, "price_amount": 45000, "currency": "EUR", "upfront": true}}))
	w.pack = idOf(send(call{path: "/v1/clients/" + w.client + "/packs", key: "setup-pack",
		body: map[string]any{"offer_id": num(w.offer), "method": "cash"}}))
	w.session = idOf(send(call{path: "/v1/sessions", key: "setup-session", body: map[string]any{"title": "Séance",
		"starts_at": time.Now().UTC().Add(-2 * time.Hour).Format(time.RFC3339), "duration_minutes": 60,
		"client_ids": []int64{num(w.client)}}}))
}

func num(s string) int64 {
	var n int64
	_, _ = fmt.Sscan(s, &n)
	return n
}

func (w *world) count(query string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.d.Get(&n, query, args...); err != nil {
		w.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// restart kills whatever serves and starts a clean process.
func (w *world) restart() {
	w.t.Helper()
	if w.p != nil {
		w.p.kill()
	}
	w.p = serve(w.t, w.url, w.stripe.URL)
}

// crashOn sends c to a process armed with point, which must die of it
// before answering; then a restarted process answers c's retry.
func (w *world) crashOn(point string, c call) answer {
	w.t.Helper()
	w.p.kill()
	armed := serve(w.t, w.url, w.stripe.URL, "CARNET_FAILPOINTS="+point)
	if a, err := armed.send(w.token, c); err == nil {
		w.t.Fatalf("POST %s answered %d %s through failpoint %s", c.path, a.status, a.body, point)
	}
	armed.killed()
	w.p = serve(w.t, w.url, w.stripe.URL)
	w.calls = append(w.calls, c)
	a := w.p.must(w.token, c)
	if point == failpoint.AfterCommit && !a.replayed {
		w.t.Fatalf("POST %s after a crash past its commit ran again (%s), want its stored answer", c.path, a.body)
	}
	return a
}

// crashDelivering delivers payloads to a process armed to die in the middle
// of applying the first one, then all of them to a restarted process.
func (w *world) crashDelivering(payloads [][]byte) {
	w.t.Helper()
	var first struct{ ID string }
	if err := json.Unmarshal(payloads[0], &first); err != nil {
		w.t.Fatal(err)
	}
	w.p.kill()
	// Armed for this event only: the sweep replaying stripe-mock's own
	// events at start must not trip it.
	armed := serve(w.t, w.url, w.stripe.URL, "CARNET_FAILPOINTS="+failpoint.MidWebhook+"="+first.ID)
	if _, err := armed.deliver(payloads[0]); err == nil {
		w.t.Fatal("an event was acknowledged through the mid-webhook failpoint")
	}
	armed.killed()
	w.p = serve(w.t, w.url, w.stripe.URL)
	w.deliverAll(payloads)
}

func (w *world) deliverAll(payloads [][]byte) {
	w.t.Helper()
	for _, pl := range payloads {
		if _, err := w.p.deliver(pl); err != nil {
			w.t.Fatalf("deliver: %v\n%s", err, w.p.stderr.String())
		}
	}
	w.events = append(w.events, payloads...)
}

// paid is what Stripe sends when the client pays pack by card.
func (w *world) paid(pack string) [][]byte {
	w.t.Helper()
	payloads, err := localstripe.Simulate(context.Background(), w.d, num(pack), "card", time.Now().UTC())
	if err != nil {
		w.t.Fatal(err)
	}
	return payloads
}

// chargedTwice is a second successful charge for pack: a duplicate_charge
// anomaly whose excess Carnet refunds.
func (w *world) chargedTwice(pack string) (payload []byte, anomaly func() string) {
	payload = []byte(fmt.Sprintf(`{"id": "evt_dup_%[1]s", "object": "event", "api_version": "2023-10-16", "created": %[2]d,
		"type": "payment_intent.succeeded", "livemode": false, "pending_webhooks": 1,
		"request": {"id": null, "idempotency_key": null}, "data": {"object": {"id": "pi_dup_%[1]s",
		"object": "payment_intent", "amount": 45000, "amount_received": 45000, "currency": "eur", "status": "succeeded",
		"metadata": {"carnet_pack_id": "%[1]s"}, "latest_charge": "ch_dup_%[1]s", "invoice": null}}}`, pack, time.Now().Unix()))
	return payload, func() string {
		var id int64
		if err := w.d.Get(&id, `SELECT id FROM anomalies WHERE pack_id = $1 AND kind = 'duplicate_charge'`, num(pack)); err != nil {
			w.t.Fatalf("no duplicate_charge anomaly on pack %s: %v", pack, err)
		}
		return fmt.Sprint(id)
	}
}

// state is what a coach and Stripe would check, without ids or times.
func (w *world) state() string {
	w.t.Helper()
	var rows []string
	err := w.d.Select(&rows, `
		SELECT 'pack ' || p.plan || ' ' || p.status || ' ' || p.sessions_remaining || ' ledger ' ||
			coalesce((SELECT string_agg(kind || delta, ',' ORDER BY kind, delta) FROM ledger_entries e WHERE e.pack_id = p.id), '') ||
			' payments ' || coalesce((SELECT string_agg(kind || ':' || status || ':' || amount, ',' ORDER BY kind, status, amount)
				FROM payments y WHERE y.pack_id = p.id), '')
		FROM packs p
		UNION ALL SELECT 'anomaly ' || kind || ' ' || state || ' ' || excess_amount FROM anomalies
		UNION ALL SELECT 'notification ' || template || ' ' || recipient FROM notifications
		UNION ALL SELECT 'refund claim ' || amount || ' ' || (done_at IS NOT NULL) FROM anomaly_refunds
		UNION ALL SELECT 'key ' || key || ' ' || status FROM idempotency_keys
		ORDER BY 1`)
	if err != nil {
		w.t.Fatal(err)
	}
	return strings.Join(rows, "\n")
}

// Killed at each failpoint, restarted, every request retried with its key and
// every event redelivered: each took effect exactly once.
func TestCrashesApplyEachRequestOnce(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.restart()
	w.setUp(func(c call) answer { return w.p.must(w.token, c) })

	// Attendance, adjustment and goodwill, killed after their commit.
	w.crashOn(failpoint.AfterCommit, call{path: "/v1/sessions/" + w.session + "/attendance", key: "attend-1",
		body: map[string]any{"outcomes": []map[string]any{{"client_id": num(w.client), "outcome": "attended"}}}})
	w.crashOn(failpoint.AfterCommit, call{path: "/v1/clients/" + w.client + "/adjustments", key: "adjust-1",
		body: map[string]any{"pack_id": num(w.pack), "delta": 2, "reason": "séance offerte"}})
	w.crashOn(failpoint.AfterCommit, call{path: "/v1/goodwill", key: "goodwill-1",
		body: map[string]any{"client_ids": []int64{num(w.client)}, "sessions": 1, "incident": "salle fermée", "note": "salle fermée", "value_amount": 4500}})
	if got := w.count(`SELECT sessions_remaining FROM packs WHERE id = $1`, num(w.pack)); got != 10-1+2+1 {
		t.Fatalf("pack %s has %d sessions, want 12 (10 - 1 attended + 2 adjusted + 1 goodwill, once each)", w.pack, got)
	}
	for kind, want := range map[string]int{"attended": 1, "adjustment": 1, "goodwill": 1, "purchase": 1} {
		if n := w.count(`SELECT count(*) FROM ledger_entries WHERE pack_id = $1 AND kind = $2`, num(w.pack), kind); n != want {
			t.Errorf("%d %s entries, want %d", n, kind, want)
		}
	}
	if n := w.count(`SELECT count(*) FROM notifications WHERE template = 'goodwill_granted'`); n != 1 {
		t.Errorf("%d goodwill emails, want 1", n)
	}

	// A checkout killed after its commit, another between Stripe's answer
	// and its record: one pack each, and the retry asked Stripe for the same
	// session (the same idempotency key).
	checkout := func(key string) call {
		return call{path: "/v1/checkout", key: key, body: map[string]any{"client_id": num(w.client), "offer_id": num(w.offer), "plan": "upfront"}}
	}
	first := w.crashOn(failpoint.AfterCommit, checkout("checkout-1"))
	second := w.crashOn(failpoint.AfterStripe, checkout("checkout-2"))
	pack1 := fmt.Sprint(int64(first.json(t)["pack_id"].(float64)))
	pack2 := fmt.Sprint(int64(second.json(t)["pack_id"].(float64)))
	if n := w.count(`SELECT count(*) FROM packs WHERE plan = 'upfront'`); n != 2 || pack1 == pack2 {
		t.Fatalf("%d checkout packs (%s, %s), want 2", n, pack1, pack2)
	}
	sessions := w.stripe.Keys("POST", "/v1/checkout/sessions")
	if len(sessions) != 3 || distinct(sessions) != 2 {
		t.Fatalf("Checkout Sessions asked of Stripe: %v, want 2 keys, the one killed after Stripe's answer asked twice", sessions)
	}

	// Payment events, killed in the middle of applying the first.
	w.crashDelivering(w.paid(pack1))
	if got := w.count(`SELECT count(*) FROM packs WHERE id = $1 AND status = 'active' AND sessions_remaining = 10`, num(pack1)); got != 1 {
		t.Fatalf("pack %s not active with its 10 sessions after the redelivery:\n%s", pack1, w.state())
	}
	w.deliverAll(w.paid(pack2))

	// Anomaly refunds: killed after the commit, and between Stripe and its record.
	dup1, anomaly1 := w.chargedTwice(pack1)
	dup2, anomaly2 := w.chargedTwice(pack2)
	w.deliverAll([][]byte{dup1, dup2})
	w.crashOn(failpoint.AfterCommit, call{path: "/v1/anomalies/" + anomaly1() + "/refund", key: "refund-1", body: map[string]any{}})
	w.crashOn(failpoint.AfterStripe, call{path: "/v1/anomalies/" + anomaly2() + "/refund", key: "refund-2", body: map[string]any{}})
	if n := w.count(`SELECT count(*) FROM anomalies WHERE kind = 'duplicate_charge' AND state = 'resolved' AND stripe_refund_id IS NOT NULL`); n != 2 {
		t.Fatalf("%d duplicate charges refunded, want 2:\n%s", n, w.state())
	}
	if n := w.count(`SELECT count(*) FROM payments WHERE status = 'remedy'`); n != 2 {
		t.Errorf("%d remedies recorded, want 2", n)
	}
	refunds := w.stripe.Keys("POST", "/v1/refunds")
	if len(refunds) != 3 || distinct(refunds) != 2 {
		t.Fatalf("refunds asked of Stripe: %v, want 2 keys, the one killed after Stripe's answer asked twice", refunds)
	}
	if n := w.count(`SELECT count(*) FROM notifications WHERE template = 'anomaly_resolved'`); n != 2 {
		t.Errorf("%d anomaly_resolved emails, want 2", n)
	}

	// Every request retried once more and every event redelivered: nothing
	// changes, every answer is the stored one.
	before := w.state()
	w.restart()
	for _, c := range w.calls {
		if a := w.p.must(w.token, c); !a.replayed {
			t.Errorf("POST %s (key %s) ran again: %s", c.path, c.key, a.body)
		}
	}
	w.deliverAll(w.events)
	if after := w.state(); after != before {
		t.Fatalf("retries changed the state:\nbefore:\n%s\nafter:\n%s", before, after)
	}
	if out, err := runCmd(t, w.url, "verify"); err != nil {
		t.Fatalf("carnet verify: %v\n%s", err, out)
	}
}
