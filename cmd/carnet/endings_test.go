package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"carnet/notify"
)

// attend books a client into a session an hour from now, moves the clock
// past it and records them as attended.
func (a *app) attend(key string, clientID any) {
	a.t.Helper()
	start := a.clock().Add(time.Hour)
	s := a.must(201, "POST", "/v1/sessions", key, map[string]any{"starts_at": start, "client_ids": []any{clientID}})
	a.at(start.Add(time.Hour))
	a.must(200, "POST", "/v1/bookings/"+id(s["bookings"].([]any)[0].(map[string]any))+"/outcome", key, map[string]any{"outcome": "attended"})
}

// Under a charter that refunds the unused part: a client who paid by card
// through Stripe gets it back through Stripe, once; one who paid cash is
// owed it by hand. Neither can buy or be booked again; both stay in the
// reports; each is told in their language.
func TestEndingRefundsTheUnusedPart(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("ending@example.com")
	a.must(201, "POST", "/v1/charter", key, map[string]any{"end_unused": "refund"})
	if ch := a.must(200, "GET", "/v1/charter", key, nil); ch["end_unused"] != "refund" {
		t.Fatalf("charter: %v", ch)
	}
	ten := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10 sesiones", "kind": "sessions", "sessions": 10, "price_amount": 45000})
	lea := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Lea", "email": "lea@example.com", "locale": "es"})
	marc := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Marc", "email": "marc@example.com", "locale": "en"})
	co := a.must(201, "POST", "/v1/checkout", key, map[string]any{"client_id": lea["id"], "offer_id": ten["id"]})
	res, err := http.PostForm(a.base+strings.TrimPrefix(co["url"].(string), "http://carnet.test"), url.Values{"action": {"card"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	a.must(201, "POST", "/v1/clients/"+id(marc)+"/packs", key, map[string]any{"offer_id": ten["id"], "method": "cash"})
	for range 2 {
		a.attend(key, lea["id"])
	}
	for range 3 {
		a.attend(key, marc["id"])
	}

	end := a.must(201, "POST", "/v1/clients/"+id(lea)+"/end", key, map[string]any{"reason": "moving away"})
	// 10 sessions for 450 €, 2 used: 360 € go back through Stripe.
	if end["unused"] != "refund" || jnum(end["refund"]) != 36000 || jnum(end["refund_by_hand"]) != 0 {
		t.Fatalf("ending: %v", end)
	}
	if r := a.do("POST", "/v1/clients/"+id(lea)+"/end", key, map[string]any{}); r.Status != 409 {
		t.Fatalf("ending twice: %d %s", r.Status, r.Body)
	}
	// The refund job runs in the background, once.
	deadline := time.Now().Add(20 * time.Second)
	for a.count(`SELECT count(*) FROM ending_refunds WHERE done_at IS NOT NULL AND stripe_refund_id IS NOT NULL`) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the refund was not made: %d claims", a.count(`SELECT count(*) FROM ending_refunds`))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := a.sum(`SELECT sum(amount) FROM payments WHERE kind = 'refund' AND status = 'remedy' AND pack_id = $1`, jnum(co["pack_id"])); n != 36000 {
		t.Fatalf("remedy rows hold %d", n)
	}
	bal := a.must(200, "GET", "/v1/clients/"+id(lea)+"/balance", key, nil)
	if bal["sessions_remaining"] != 0.0 || bal["packs"].([]any)[0].(map[string]any)["status"] != "refunded" {
		t.Fatalf("balance after the end: %v", bal)
	}
	var data []byte
	if err := a.m.DB.QueryRow(`SELECT data FROM notifications WHERE template = 'relationship_ended' AND locale = 'es'
		AND client_id = $1`, jnum(lea["id"])).Scan(&data); err != nil {
		t.Fatal(err)
	}
	var stored map[string]any
	_ = json.Unmarshal(data, &stored)
	r, err := notify.RenderMessage(notify.Message{Template: notify.RelationshipEnded, Locale: "es", Data: stored})
	if err != nil || !strings.Contains(r.Subject, "seguimiento") || !strings.Contains(r.Text, "Reembolso en su medio de pago: 360,00 €") ||
		!strings.Contains(r.Text, "(8 sesiones)") {
		t.Fatalf("the client's message: %v %q\n%s", err, r.Subject, r.Text)
	}
	// No new sale, no new booking.
	if r := a.do("POST", "/v1/clients/"+id(lea)+"/packs", key, map[string]any{"offer_id": ten["id"], "method": "cash"}); r.Status != 409 {
		t.Fatalf("a sale after the end: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", "/v1/checkout", key, map[string]any{"client_id": lea["id"], "offer_id": ten["id"]}); r.Status != 409 {
		t.Fatalf("a checkout after the end: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", "/v1/sessions", key, map[string]any{"starts_at": a.clock().Add(time.Hour), "client_ids": []any{lea["id"]}}); r.Status != 400 {
		t.Fatalf("a booking after the end: %d %s", r.Status, r.Body)
	}

	// Cash: 450 € for 10, 3 used: 315 € to hand back.
	end = a.must(201, "POST", "/v1/clients/"+id(marc)+"/end", key, nil)
	if jnum(end["refund"]) != 0 || jnum(end["refund_by_hand"]) != 31500 {
		t.Fatalf("cash ending: %v", end)
	}
	if n := a.count(`SELECT count(*) FROM notifications WHERE template = 'relationship_ended' AND locale = 'en' AND client_id = $1`, jnum(marc["id"])); n != 1 {
		t.Fatalf("Marc's message: %d", n)
	}
	// Both stay in the reports: their sessions, and the money given back.
	sheet := a.must(200, "GET", "/v1/reports/attendance?month="+a.clock().In(paris(t)).Format("2006-01"), key, nil)
	if n := jnum(sheet["totals"].(map[string]any)["attended"]); n != 5 {
		t.Fatalf("the sheet after the endings: %v", sheet["totals"])
	}
	rev := a.must(200, "GET", "/v1/reports/revenue", key, nil)
	if tot := rev["totals"].(map[string]any); jnum(tot["refunded"]) != 36000 || jnum(tot["received"]) != 90000 {
		t.Fatalf("revenue after the endings: %v", tot)
	}
}

func paris(t *testing.T) *time.Location {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// Under a charter that lets the client finish, they may still be booked
// while they hold sessions; under one that says nothing, the sessions are
// written off. Each client is judged by the charter of their pack.
func TestEndingFinishOrNothing(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("ending2@example.com")
	five := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5", "kind": "sessions", "sessions": 5, "price_amount": 20000})
	a.must(201, "POST", "/v1/charter", key, map[string]any{"end_unused": "finish"})
	x := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "X", "email": "x@example.com"})
	a.must(201, "POST", "/v1/clients/"+id(x)+"/packs", key, map[string]any{"offer_id": five["id"], "method": "cash"})
	a.must(201, "POST", "/v1/charter", key, map[string]any{"end_unused": "nothing"})
	y := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Y", "email": "y@example.com"})
	a.must(201, "POST", "/v1/clients/"+id(y)+"/packs", key, map[string]any{"offer_id": five["id"], "method": "cash"})
	if r := a.do("POST", "/v1/charter", key, map[string]any{"end_unused": "later"}); r.Status != 400 {
		t.Fatalf("end_unused later: %d", r.Status)
	}

	if e := a.must(201, "POST", "/v1/clients/"+id(x)+"/end", key, nil); e["unused"] != "finish" {
		t.Fatalf("X: %v", e)
	}
	a.attend(key, x["id"]) // still bookable: finishing their sessions
	if bal := a.must(200, "GET", "/v1/clients/"+id(x)+"/balance", key, nil); bal["sessions_remaining"] != 4.0 {
		t.Fatalf("X's balance: %v", bal)
	}
	if e := a.must(201, "POST", "/v1/clients/"+id(y)+"/end", key, nil); e["unused"] != "nothing" {
		t.Fatalf("Y: %v", e)
	}
	if bal := a.must(200, "GET", "/v1/clients/"+id(y)+"/balance", key, nil); bal["sessions_remaining"] != 0.0 {
		t.Fatalf("Y's balance: %v", bal)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE client_id = $1 AND kind = 'expiry' AND delta = -5`, jnum(y["id"])); n != 1 {
		t.Fatalf("Y's write-off: %d entries", n)
	}
	if r := a.do("POST", "/v1/sessions", key, map[string]any{"starts_at": a.clock().Add(time.Hour), "client_ids": []any{y["id"]}}); r.Status != 400 {
		t.Fatalf("booking Y: %d", r.Status)
	}
	if out, err := runCmd(t, a.m.DatabaseURL, "verify"); err != nil {
		t.Fatalf("verify after the endings: %v\n%s", err, out)
	}
}
