package main

import (
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"carnet/internal/stripefault"
)

// The whole purchase, offline: checkout, the local page plays Stripe, the
// pack is active; the CLI sends further events to the running server.
func TestPurchaseEndToEndWithoutStripeAccount(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("shop@example.com")
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10", "kind": "sessions", "sessions": 10, "price_amount": 45000, "installments": 3})
	c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa", "email": "lea@example.com"})
	tok := a.must(201, "POST", "/v1/clients/"+id(c)+"/links", key, nil)["token"].(string)

	// The client buys through the link, in three installments, after accepting the agreement.
	ag := a.must(200, "GET", "/v1/me/agreement?plan=installments&offer_id="+id(offer), tok, nil)
	co := a.must(201, "POST", "/v1/me/checkout", tok, map[string]any{"offer_id": offer["id"], "plan": "installments", "agreement_sha256": ag["sha256"]})
	page := strings.TrimPrefix(co["url"].(string), "http://carnet.test")
	if !strings.HasPrefix(page, "/checkout/local/") {
		t.Fatalf("checkout url %v", co["url"])
	}
	if r := a.do("GET", page, "", nil); r.Status != 200 || !strings.Contains(string(r.Body), "pending") {
		t.Fatalf("local page: %d %.300s", r.Status, r.Body)
	}
	res, err := http.PostForm(a.base+page, url.Values{"action": {"card"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	bal := a.must(200, "GET", "/v1/me/balance", tok, nil)
	p := bal["packs"].([]any)[0].(map[string]any)
	if p["status"] != "active" || bal["sessions_remaining"] != float64(10) || p["next_installment"].(map[string]any)["seq"] != float64(2) {
		t.Fatalf("after paying: %v", bal)
	}
	// carnet stripe send: the second debit fails, against the running server.
	cfg := a.m.Config
	cfg.BaseURL = a.base
	// The second debit, on its due date: a plan paid on schedule, no anomaly.
	if out, err := runCmdWith(t, cfg, "stripe", "send", "next_paid", "--pack", jsonString(co["pack_id"])); err != nil || !strings.HasPrefix(out, "200 ") {
		t.Fatalf("stripe send: %v\n%s", err, out)
	}
	if got := a.must(200, "GET", "/v1/anomalies", key, nil)["data"].([]any); len(got) != 0 {
		t.Fatalf("a debit on its due date raised %v", got)
	}
	out, err := runCmdWith(t, cfg, "stripe", "send", "next_failed", "--pack", jsonString(co["pack_id"]))
	if err != nil || !strings.HasPrefix(out, "200 ") {
		t.Fatalf("stripe send: %v\n%s", err, out)
	}
	if p := a.must(200, "GET", "/v1/clients/"+id(c)+"/balance", key, nil)["packs"].([]any)[0].(map[string]any); p["status"] != "overdue" {
		t.Fatalf("after a failed debit: %v", p["status"])
	}
	// A lost dispute of the first debit ends the plan.
	if out, err := runCmdWith(t, cfg, "stripe", "send", "dispute_lost", "--pack", jsonString(co["pack_id"])); err != nil {
		t.Fatalf("stripe send: %v\n%s", err, out)
	}
	if p := a.must(200, "GET", "/v1/clients/"+id(c)+"/balance", key, nil)["packs"].([]any)[0].(map[string]any); p["status"] != "refunded" {
		t.Fatalf("after a lost dispute: %v", p["status"])
	}
	// A bad signature is refused at the door.
	if r := a.do("POST", "/webhooks/stripe", "", `{"id":"evt_1"}`, "Stripe-Signature", "t=1,v1=00"); r.Status != 400 {
		t.Fatalf("bad signature: %d", r.Status)
	}
	// Another coach cannot sell to this client.
	other := a.coach("other@example.com")
	otherOffer := a.must(201, "POST", "/v1/offers", other, map[string]any{"name": "5", "kind": "sessions", "sessions": 5, "price_amount": 100})
	if r := a.do("POST", "/v1/checkout", other, map[string]any{"client_id": c["id"], "offer_id": otherOffer["id"]}); r.Status != 404 {
		t.Fatalf("checkout for another coach's client: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", "/v1/checkout", key, map[string]any{"client_id": c["id"], "offer_id": otherOffer["id"]}); r.Status != 400 {
		t.Fatalf("checkout of another coach's offer: %d %s", r.Status, r.Body)
	}
}

// Stripe fails while a coach, then a client, asks for a checkout: both are
// answered in plain words, with nothing of Stripe's text or address, and no
// pack is left waiting; once Stripe answers, the checkout opens.
func TestCheckoutWhenStripeFailsOverHTTP(t *testing.T) {
	t.Parallel()
	proxy := stripefault.New(t, os.Getenv("STRIPE_API_BASE"))
	a := startAppWith(t, "", func(m *Main) { m.StripeAPIBase = proxy.URL })
	key := a.coach("faults@example.com")
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10", "kind": "sessions", "sessions": 10, "price_amount": 45000, "installments": 3})
	c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa", "email": "lea@example.com"})
	tok := a.must(201, "POST", "/v1/clients/"+id(c)+"/links", key, nil)["token"].(string)

	accepted := map[string]any{"offer_id": offer["id"], "plan": "installments",
		"agreement_sha256": a.must(200, "GET", "/v1/me/agreement?plan=installments&offer_id="+id(offer), tok, nil)["sha256"]}
	proxy.Inject(stripefault.Rule{Method: "POST", Path: "/v1/checkout/sessions", On: []int{1}, Fault: stripefault.ServerError},
		stripefault.Rule{Method: "POST", Path: "/v1/customers", On: []int{1}, Fault: stripefault.RateLimited})
	for _, r := range []reply{
		a.do("POST", "/v1/me/checkout", tok, accepted),
		a.do("POST", "/v1/checkout", key, map[string]any{"client_id": c["id"], "offer_id": offer["id"]}),
	} {
		if r.Status != http.StatusServiceUnavailable || r.code(t) != "unavailable" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("checkout while Stripe fails: %d %s", r.Status, r.Body)
		}
		msg := r.json(t)["error"].(map[string]any)["message"]
		if msg != "Stripe did not answer; nothing was charged; try again" || strings.Contains(string(r.Body), strings.TrimPrefix(proxy.URL, "http://")) {
			t.Fatalf("the caller read %s", r.Body)
		}
	}
	if n := a.count(`SELECT count(*) FROM packs WHERE status <> 'cancelled'`); n != 0 {
		t.Fatalf("%d packs left after failed checkouts", n)
	}
	if n := a.count(`SELECT count(*) FROM installments WHERE status <> 'cancelled'`); n != 0 {
		t.Fatalf("%d installments still expected after failed checkouts", n)
	}
	co := a.must(201, "POST", "/v1/me/checkout", tok, accepted)
	if co["checkout_session_id"] == "" {
		t.Fatalf("checkout once Stripe answers: %v", co)
	}
}
