package main

import (
	"sync"
	"testing"
	"time"

	"carnet/packs"
)

// A group session where one participant has no usable pack: the other two
// are charged, the third is told why, and nothing else changes.
func TestGroupSessionRefusesOnlyTheParticipantWithoutPack(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("group@example.com")
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5", "kind": "sessions", "sessions": 5, "price_amount": 5000})
	var clients []any
	for i, name := range []string{"ana", "ben", "cy"} {
		c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": name, "email": name + "@example.com"})
		clients = append(clients, c["id"])
		if i < 2 {
			a.must(201, "POST", "/v1/clients/"+id(c)+"/packs", key, map[string]any{"offer_id": offer["id"], "method": "bank_transfer", "reference": "VIR-1"})
		}
	}
	sess := a.must(201, "POST", "/v1/sessions", key, map[string]any{
		"title": "Group", "starts_at": a.clock().Add(-2 * time.Hour), "duration_minutes": 60, "client_ids": clients})
	if sess["kind"] != "group" || len(sess["bookings"].([]any)) != 3 {
		t.Fatalf("session %v", sess)
	}
	var outcomes []any
	for _, c := range clients {
		outcomes = append(outcomes, map[string]any{"client_id": c, "outcome": "attended"})
	}
	res := a.must(200, "POST", "/v1/sessions/"+id(sess)+"/attendance", key, map[string]any{"outcomes": outcomes})["data"].([]any)
	for i, r := range res {
		r := r.(map[string]any)
		if i < 2 && r["booking"] == nil {
			t.Fatalf("participant %d not charged: %v", i, r)
		}
		if i == 2 && (r["error"] == nil || r["error"].(map[string]any)["code"] != "insufficient_balance") {
			t.Fatalf("participant without pack: %v", r)
		}
	}
	for i, c := range clients {
		bal := a.must(200, "GET", "/v1/clients/"+jsonString(c)+"/balance", key, nil)
		want := []float64{4, 4, 0}[i]
		if bal["sessions_remaining"] != want {
			t.Fatalf("client %d balance %v, want %v", i, bal["sessions_remaining"], want)
		}
	}
	// The third booking is still open: nothing was recorded for it.
	third := a.must(200, "GET", "/v1/sessions/"+id(sess), key, nil)["bookings"].([]any)[2].(map[string]any)
	if third["outcome"] != nil {
		t.Fatalf("refused booking changed: %v", third)
	}
	roster := a.must(200, "GET", "/v1/balances?sort=sessions_remaining", key, nil)["data"].([]any)
	if len(roster) != 3 || roster[0].(map[string]any)["name"] != "cy" {
		t.Fatalf("roster %v", roster)
	}
	if out, err := runCmd(t, a.m.DatabaseURL, "verify"); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
}

// The client, through the link, is told before cancelling whether it will
// count, then cancels; another client's booking is out of reach.
func TestClientCancelsThroughTheLink(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("cancel@example.com")
	a.must(201, "POST", "/v1/charter", key, map[string]any{"notice_hours": 24, "late_cancel_action": "deduct"})
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5", "kind": "sessions", "sessions": 5, "price_amount": 5000})
	lea := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa", "email": "lea@example.com"})
	bob := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Bob", "email": "bob@example.com"})
	a.must(201, "POST", "/v1/clients/"+id(lea)+"/packs", key, map[string]any{"offer_id": offer["id"], "method": "cash"})
	soon := a.must(201, "POST", "/v1/sessions", key, map[string]any{"starts_at": a.clock().Add(5 * time.Hour), "client_ids": []any{lea["id"]}})
	later := a.must(201, "POST", "/v1/sessions", key, map[string]any{"starts_at": a.clock().Add(50 * time.Hour), "client_ids": []any{lea["id"]}})
	bobs := a.must(201, "POST", "/v1/sessions", key, map[string]any{"starts_at": a.clock().Add(50 * time.Hour), "client_ids": []any{bob["id"]}})
	bookingOf := func(s map[string]any) string { return id(s["bookings"].([]any)[0].(map[string]any)) }

	tok := a.must(201, "POST", "/v1/clients/"+id(lea)+"/links", key, nil)["token"].(string)
	pre := a.must(200, "GET", "/v1/me/bookings/"+bookingOf(soon)+"/cancellation", tok, nil)
	if pre["late"] != true || pre["counted"] != true || pre["message"] == "" {
		t.Fatalf("preview of a late cancellation: %v", pre)
	}
	if pre := a.must(200, "GET", "/v1/me/bookings/"+bookingOf(later)+"/cancellation", tok, nil); pre["late"] != false || pre["counted"] != false {
		t.Fatalf("preview of an early cancellation: %v", pre)
	}
	if b := a.must(200, "POST", "/v1/me/bookings/"+bookingOf(soon)+"/cancel", tok, nil); b["outcome"] != "late_cancelled" {
		t.Fatalf("late cancel: %v", b)
	}
	if b := a.must(200, "POST", "/v1/me/bookings/"+bookingOf(later)+"/cancel", tok, nil); b["outcome"] != "cancelled" {
		t.Fatalf("early cancel: %v", b)
	}
	if bal := a.must(200, "GET", "/v1/me/balance", tok, nil); bal["sessions_remaining"] != float64(4) {
		t.Fatalf("balance after one late cancellation: %v", bal)
	}
	if n := len(a.must(200, "GET", "/v1/me/ledger", tok, nil)["data"].([]any)); n != 2 {
		t.Fatalf("ledger entries %d, want purchase and late_cancel", n)
	}
	if n := len(a.must(200, "GET", "/v1/me/bookings", tok, nil)["data"].([]any)); n != 2 {
		t.Fatalf("Léa sees %d bookings", n)
	}
	for _, path := range []string{"/v1/me/bookings/" + bookingOf(bobs) + "/cancellation", "/v1/me/bookings/" + bookingOf(bobs) + "/cancel"} {
		method := "GET"
		if path[len(path)-1] == 'l' && path[len(path)-6:] == "cancel" {
			method = "POST"
		}
		if r := a.do(method, path, tok, nil); r.Status != 404 {
			t.Fatalf("Léa reached Bob's booking via %s %s: %d", method, path, r.Status)
		}
	}
	if b := a.must(200, "GET", "/v1/sessions/"+id(bobs), key, nil)["bookings"].([]any)[0].(map[string]any); b["outcome"] != nil {
		t.Fatalf("Bob's booking changed: %v", b)
	}
}

// Expiry is a background job of the running program, not a request.
func TestPacksExpireOnTimeInTheBackground(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("expiry@example.com")
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5", "kind": "sessions", "sessions": 5, "validity_days": 30, "price_amount": 5000})
	c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Zoé", "email": "zoe@example.com"})
	pack := a.must(201, "POST", "/v1/clients/"+id(c)+"/packs", key, map[string]any{"offer_id": offer["id"], "method": "cash"})
	validUntil, _ := time.Parse(time.RFC3339, pack["valid_until"].(string))

	a.mu.Lock()
	a.now = validUntil.Add(packs.ExpiryGrace + time.Minute)
	a.mu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var status string
		if err := a.m.DB.Get(&status, `SELECT status FROM packs WHERE id = $1`, pack["id"]); err != nil {
			t.Fatal(err)
		}
		if status == "expired" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pack still %s a minute after its expiry job should have run", status)
		}
		time.Sleep(200 * time.Millisecond)
	}
	ledger := a.must(200, "GET", "/v1/clients/"+id(c)+"/ledger", key, nil)["data"].([]any)
	if top := ledger[0].(map[string]any); top["kind"] != "expiry" || top["delta"] != float64(-5) {
		t.Fatalf("newest ledger entry %v, want the expiry of 5 sessions", top)
	}
	if out, err := runCmd(t, a.m.DatabaseURL, "verify"); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
}

// The same attendance sent 50 times at once over HTTP, half of them with one
// Idempotency-Key, charges once.
func TestParallelOutcomeRequestsChargeOnce(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("parallel@example.com")
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5", "kind": "sessions", "sessions": 5, "price_amount": 5000})
	c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Ana", "email": "ana@example.com"})
	a.must(201, "POST", "/v1/clients/"+id(c)+"/packs", key, map[string]any{"offer_id": offer["id"], "method": "cash"})
	sess := a.must(201, "POST", "/v1/sessions", key, map[string]any{"starts_at": a.clock().Add(-time.Hour), "client_ids": []any{c["id"]}})
	path := "/v1/bookings/" + id(sess["bookings"].([]any)[0].(map[string]any)) + "/outcome"
	var wg sync.WaitGroup
	statuses := make([]int, 50)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var headers []string
			if i%2 == 0 {
				headers = []string{"Idempotency-Key", "attend-once"}
			}
			statuses[i] = a.do("POST", path, key, map[string]any{"outcome": "attended"}, headers...).Status
		}()
	}
	wg.Wait()
	for _, s := range statuses {
		if s != 200 && s != 409 { // 409: the keyed twin still in flight
			t.Fatalf("statuses %v", statuses)
		}
	}
	if bal := a.must(200, "GET", "/v1/clients/"+id(c)+"/balance", key, nil); bal["sessions_remaining"] != float64(4) {
		t.Fatalf("balance %v after 50 identical requests, want 4", bal["sessions_remaining"])
	}
	if out, err := runCmd(t, a.m.DatabaseURL, "verify"); err != nil {
		t.Fatalf("verify: %v\n%s", err, out)
	}
}
