package main

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// The client reads the agreement in their language, accepts exactly that
// text before paying, and both sides (and a dispute's evidence) find the
// signed text with its hash, time, address and browser.
func TestAgreementIsReadAcceptedAndKept(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("agree@example.com")
	a.must(201, "POST", "/v1/charter", key, map[string]any{"notice_hours": 48, "late_cancel_action": "fee", "late_cancel_fee": 2500,
		"agreement": map[string]any{
			"en": map[string]any{"included": "A written plan", "excluded": "Equipment", "session_length": "45 minutes",
				"frequency": "twice a week", "extras": "Video call: €10", "free_text": "Bring water."},
			"fr": map[string]any{"included": "Un plan écrit"}}})
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "Ten", "kind": "sessions", "sessions": 10, "price_amount": 45000, "installments": 3})
	c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Ana", "email": "ana@example.com", "locale": "en"})
	tok := a.must(201, "POST", "/v1/clients/"+id(c)+"/links", key, nil)["token"].(string)

	ag := a.must(200, "GET", "/v1/me/agreement?plan=installments&offer_id="+id(offer), tok, nil)
	text := ag["text"].(string)
	for _, w := range []string{"Coaching agreement between Coach agree@example.com and Ana", "version 1", "Ana, ana@example.com",
		"Price: €450.00.", "Installment 1, on November 2, 2026: €150.00.", "Installment 3, on January 2, 2027: €150.00.",
		"Length of a session: 45 minutes", "Frequency: twice a week", "A written plan", "Equipment", "Video call: €10",
		"Bring water.", "at least 48 hours before", "a fee of €25.00", "never costs you anything"} {
		if !strings.Contains(text, w) {
			t.Errorf("agreement lacks %q:\n%s", w, text)
		}
	}
	sum := sha256.Sum256([]byte(text))
	if ag["sha256"] != hex.EncodeToString(sum[:]) {
		t.Fatalf("sha256 %v is not the text's", ag["sha256"])
	}

	// Paying without accepting, or accepting another text, opens nothing.
	if r := a.do("POST", "/v1/me/checkout", tok, map[string]any{"offer_id": offer["id"], "plan": "installments"}); r.Status != 400 {
		t.Fatalf("checkout without acceptance: %d %s", r.Status, r.Body)
	}
	if r := a.do("POST", "/v1/me/checkout", tok, map[string]any{"offer_id": offer["id"], "plan": "upfront", "agreement_sha256": ag["sha256"]}); r.Status != 409 {
		t.Fatalf("the installments text accepted for an upfront plan: %d %s", r.Status, r.Body)
	}
	if n := a.count(`SELECT count(*) FROM packs`); n != 0 {
		t.Fatalf("%d packs opened without an accepted agreement", n)
	}
	co := a.must(201, "POST", "/v1/me/checkout", tok, map[string]any{"offer_id": offer["id"], "plan": "installments",
		"agreement_sha256": ag["sha256"]}, "User-Agent", "AgreementTest/1.0")
	pack := jsonString(co["pack_id"])

	signed := a.must(200, "GET", "/v1/me/packs/"+pack+"/agreement", tok, nil)
	if signed["text"] != text || signed["text_sha256"] != ag["sha256"] || signed["user_agent"] != "AgreementTest/1.0" ||
		signed["ip"] != "127.0.0.1" || signed["charter_version"] != float64(1) || signed["locale"] != "en" || signed["accepted_at"] == nil {
		t.Fatalf("signed agreement: %v", signed)
	}
	if byCoach := a.must(200, "GET", "/v1/packs/"+pack+"/agreement", key, nil); byCoach["text_sha256"] != ag["sha256"] {
		t.Fatalf("coach's copy: %v", byCoach)
	}
	// Another client's link, another coach's key: not found.
	other := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Bo", "email": "bo@example.com"})
	otherTok := a.must(201, "POST", "/v1/clients/"+id(other)+"/links", key, nil)["token"].(string)
	if r := a.do("GET", "/v1/me/packs/"+pack+"/agreement", otherTok, nil); r.Status != 404 {
		t.Fatalf("another client reads the agreement: %d", r.Status)
	}
	if r := a.do("GET", "/v1/packs/"+pack+"/agreement", a.coach("else@example.com"), nil); r.Status != 404 {
		t.Fatalf("another coach reads the agreement: %d", r.Status)
	}

	// Paid, then disputed: the evidence carries the signed agreement.
	res, err := http.PostForm(a.base+localCheckoutPath(co), url.Values{"action": {"card"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	// A session attended and confirmed by the client; one not yet attended cannot be.
	sess := a.must(201, "POST", "/v1/sessions", key, map[string]any{"starts_at": a.clock().Add(-time.Hour), "client_ids": []any{c["id"]}})
	booking := jsonString(sess["bookings"].([]any)[0].(map[string]any)["id"])
	if r := a.do("POST", "/v1/me/bookings/"+booking+"/confirm", tok, nil); r.Status != 409 {
		t.Fatalf("confirming a session not marked attended: %d %s", r.Status, r.Body)
	}
	a.must(200, "POST", "/v1/bookings/"+booking+"/outcome", key, map[string]any{"outcome": "attended"})
	if r := a.do("POST", "/v1/me/bookings/"+booking+"/confirm", otherTok, nil); r.Status != 404 {
		t.Fatalf("another client confirms: %d", r.Status)
	}
	first := a.must(200, "POST", "/v1/me/bookings/"+booking+"/confirm", tok, nil)["client_confirmed_at"]
	if again := a.must(200, "POST", "/v1/me/bookings/"+booking+"/confirm", tok, nil)["client_confirmed_at"]; again != first {
		t.Fatalf("confirmed again at %v, first %v", again, first)
	}
	cfg := a.m.Config
	cfg.BaseURL = a.base
	if out, err := runCmdWith(t, cfg, "stripe", "send", "dispute_lost", "--pack", pack); err != nil {
		t.Fatalf("stripe send: %v\n%s", err, out)
	}
	var anomaly string
	if err := a.m.DB.Get(&anomaly, `SELECT id::text FROM anomalies WHERE cause_key LIKE 'dispute:%'`); err != nil {
		t.Fatalf("no dispute anomaly: %v", err)
	}
	d := a.must(200, "GET", "/v1/anomalies/"+anomaly, key, nil)
	ev, _ := d["signed_agreement"].(map[string]any)
	if ev == nil || ev["text"] != text || ev["text_sha256"] != ag["sha256"] {
		t.Fatalf("dispute evidence: %v", d)
	}
	if att, _ := d["attendance"].([]any); len(att) != 1 || att[0].(map[string]any)["client_confirmed_at"] == nil {
		t.Fatalf("attendance in the evidence, with the client's confirmation: %v", d["attendance"])
	}
}
