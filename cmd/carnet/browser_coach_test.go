package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"carnet/internal/browsertest"
)

// A coach's day in the browser: add clients, sell one a pack through the
// local checkout and record another's cash payment, schedule a group
// session and mark its outcomes, see the balances change, and see a late
// cancellation's cost before confirming it.
func TestBrowserCoachDay(t *testing.T) {
	t.Parallel()
	a, _ := startBrowserApp(t)
	tab := browsertest.New(t)
	_, key := a.coachIn(t, tab, "journee@example.com", "fr")
	a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10 séances", "kind": "sessions", "sessions": 10, "price_amount": 45000})

	// Add two clients from the clients page.
	for _, c := range [][2]string{{"Léa Dubois", "lea@example.com"}, {"Mateo García", "mateo@example.com"}} {
		a.page(t, tab, "/app/clients")
		txt := submit(t, tab, `#add-client-submit`, `#new-name`, c[0], `#new-email`, c[1])
		mustContain(t, txt, "Client ajouté.", c[0], "Aucune formule en cours")
	}
	lea, mateo := a.clientID("lea@example.com"), a.clientID("mateo@example.com")
	// The same email again is refused beside its field, and what was typed stays.
	a.page(t, tab, "/app/clients")
	txt := submit(t, tab, `#add-client-submit`, `#new-name`, "Léa Martin", `#new-email`, "lea@example.com", `#new-phone`, "06 11 22 33 44")
	mustContain(t, browsertest.Eval[string](t, tab, `document.querySelector("#new-email-error").textContent`),
		"Vous avez déjà un client avec cette adresse e-mail.")
	for sel, want := range map[string]string{"#new-name": "Léa Martin", "#new-email": "lea@example.com", "#new-phone": "06 11 22 33 44"} {
		if got := browsertest.Eval[string](t, tab, `document.querySelector("`+sel+`").value`); got != want {
			t.Errorf("after the refusal %s holds %q, want %q", sel, got, want)
		}
	}
	if strings.Contains(txt, "Client ajouté") {
		t.Error("a refused client was said to be added")
	}

	// Sell Léa a pack through the local checkout: the link, then the card.
	a.page(t, tab, fmt.Sprintf("/app/clients/%d", lea))
	txt = submit(t, tab, `#sell-submit`)
	mustContain(t, txt, "Le lien de paiement est prêt")
	browsertest.Do(t, tab, "pay by card", browsertest.Click(`#checkout-url`), browsertest.WaitVisible(`button[value=card]`),
		browsertest.Click(`button[value=card]`))
	browsertest.WaitText(t, tab, "Carnet answered")
	txt = a.page(t, tab, fmt.Sprintf("/app/clients/%d", lea))
	mustContain(t, txt, "10 séances restantes sur 10", "Active")

	// Mateo paid cash.
	a.page(t, tab, fmt.Sprintf("/app/clients/%d", mateo))
	browsertest.Do(t, tab, "choose cash", browsertest.Click(`input[value=cash]`))
	txt = submit(t, tab, `#sell-submit`)
	mustContain(t, txt, "La formule est enregistrée et active.", "10 séances restantes sur 10")

	// A group session that started an hour ago, with both.
	a.page(t, tab, fmt.Sprintf("/app/sessions/new?client=%d&client=%d", lea, mateo))
	txt = submit(t, tab, `#schedule-submit`, `#starts_at`, "2026-11-02T09:00", `#title`, "Yoga du matin")
	mustContain(t, txt, "Séance planifiée.", "Léa Dubois", "Mateo García", "Yoga du matin", "Séance collective")

	// Léa attended, Mateo did not come: each is told its cost first.
	session := a.lastSession()
	for _, p := range []struct {
		client   int64
		outcome  string
		cost     string
		recorded string
	}{
		{lea, "attended", "Une séance est décomptée ; il en restera 9.", "Présent"},
		{mateo, "no_show", "Une séance est décomptée ; il en restera 9.", "Absent"},
	} {
		b := a.bookingOf(session, p.client)
		a.page(t, tab, "/app")
		// With htmx the cost opens under the participant, on the same page.
		browsertest.Do(t, tab, "tap "+p.outcome, browsertest.Click(fmt.Sprintf(`#booking-%d a[href*="outcome=%s"]`, b, p.outcome)),
			browsertest.WaitVisible(fmt.Sprintf(`#booking-%d .confirm button`, b)))
		if here := browsertest.Eval[string](t, tab, `location.pathname`); here != "/app" {
			t.Errorf("the cost should open in place, the browser went to %s", here)
		}
		mustContain(t, browsertest.Text(t, tab), p.cost)
		txt := submit(t, tab, fmt.Sprintf(`#booking-%d .confirm button`, b))
		mustContain(t, txt, "Enregistré.", p.recorded)
	}
	mustContain(t, a.page(t, tab, fmt.Sprintf("/app/clients/%d", lea)), "9 séances restantes sur 10", "Présent (-1 séance)")
	mustContain(t, a.page(t, tab, "/app/clients?sort=balance"), "9 séances restantes")

	// Tomorrow's session at 8:00: cancelling now, 21 hours before, is late.
	a.page(t, tab, fmt.Sprintf("/app/sessions/new?client=%d", lea))
	submit(t, tab, `#schedule-submit`, `#starts_at`, "2026-11-03T08:00")
	b := a.bookingOf(a.lastSession(), lea)
	// Without JavaScript the cost is a page of its own, before confirming.
	txt = a.page(t, tab, fmt.Sprintf("/app/bookings/%d/outcome?outcome=cancelled", b))
	mustContain(t, txt, "Annulation tardive", "Une séance est décomptée ; il en restera 8.")
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE booking_id = $1`, b); n != 0 {
		t.Fatalf("the preview recorded %d ledger entries", n)
	}
	txt = submit(t, tab, `#confirm button`)
	mustContain(t, txt, "Enregistré.")
	mustContain(t, a.page(t, tab, fmt.Sprintf("/app/clients/%d", lea)), "8 séances restantes sur 10", "Annulation tardive (-1 séance)")
}

// An anomaly, told in words, is refunded from its page; a charter version
// is previewed in a client's language and published; a revoked key stops
// working; another coach's client is a 404 page.
func TestBrowserAnomalyCharterKeysTenancy(t *testing.T) {
	t.Parallel()
	a, _ := startBrowserApp(t)
	tab := browsertest.New(t)
	coach, key := a.coachIn(t, tab, "suivi@example.com", "en")
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5 sessions", "kind": "sessions", "sessions": 5, "price_amount": 25000})
	c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Emma Clarke", "email": "emma@example.com", "locale": "en"})
	co := a.must(201, "POST", "/v1/checkout", key, map[string]any{"client_id": c["id"], "offer_id": offer["id"]})
	pack := int64(co["pack_id"].(float64))
	if r, err := http.PostForm(a.base+localCheckoutPath(co), map[string][]string{"action": {"card"}}); err != nil {
		t.Fatal(err)
	} else {
		r.Body.Close()
	}
	// Stripe reports a second payment for the same checkout.
	a.sendEvent(t, "payment_intent.succeeded", map[string]any{"id": "pi_twice", "object": "payment_intent", "amount": 25000,
		"amount_received": 25000, "currency": "eur", "status": "succeeded", "latest_charge": "ch_twice", "invoice": nil,
		"metadata": map[string]any{"carnet_pack_id": fmt.Sprint(pack)}})
	var anomaly int64
	if err := a.m.DB.Get(&anomaly, `SELECT id FROM anomalies WHERE pack_id = $1 AND kind = 'duplicate_charge'`, pack); err != nil {
		t.Fatalf("no duplicate charge anomaly: %v", err)
	}
	txt := a.page(t, tab, "/app/anomalies")
	mustContain(t, txt, "Duplicate charge", "Emma Clarke", "Taken too much: €250.00")
	txt = a.page(t, tab, fmt.Sprintf("/app/anomalies/%d", anomaly))
	mustContain(t, txt, "The same installment or checkout was paid twice.", "First payment: €250.00 on November 2, 2026", "Second payment: €250.00")
	txt = submit(t, tab, `#refund`)
	mustContain(t, txt, "Refunded; the anomaly is resolved.", "Resolved", "Closed by")
	if n := a.count(`SELECT count(*) FROM payments WHERE pack_id = $1 AND kind = 'refund' AND status = 'remedy'`, pack); n != 1 {
		t.Fatalf("%d refunds recorded, want 1", n)
	}

	// A charter version with the agreement's points, written in English and
	// one in Spanish: read as a Spanish client will, then published.
	a.page(t, tab, "/app/offers")
	browsertest.Do(t, tab, "choose a fee", browsertest.SetValue(`#late_cancel_action`, "fee"))
	txt = submit(t, tab, `#charter-preview-submit`, `#notice_hours`, "12", `#late_cancel_fee`, "15", `#lang`, "es",
		`#ag-en-included`, "A written training plan", `#ag-en-excluded`, "Gym membership",
		`#ag-en-session_length`, "60 minutes", `#ag-en-frequency`, "Twice a week", `#ag-en-extras`, "Video call: €20",
		`#ag-en-free_text`, "Bring water.", `#ag-es-included`, "Un plan de entrenamiento escrito")
	mustContain(t, txt, "What a client reads (Español)", "Cancela al menos 12 horas antes", "Una cancelación más tardía cuesta 15,00 €.",
		// The whole agreement, in Spanish words, with the points in the coach's.
		"Un plan de entrenamiento escrito", "Gym membership", "60 minutes", "Twice a week", "Video call: €20", "Bring water.", "5 sessions")
	if n := a.count(`SELECT count(*) FROM charter_versions WHERE coach_id = $1`, coach.ID); n != 0 {
		t.Fatalf("the preview published %d versions", n)
	}
	txt = submit(t, tab, `#charter-publish`)
	mustContain(t, txt, "The new charter version is published", "Version 1, published", "A later cancellation costs €15.00.")
	if got := browsertest.Eval[string](t, tab, `document.querySelector("#ag-en-frequency").value`); got != "Twice a week" {
		t.Errorf("the editor shows the published frequency as %q", got)
	}
	// Emma reads those points, in English, on her agreement page.
	link := a.must(201, "POST", "/v1/clients/"+id(c)+"/links", key, map[string]any{"ttl_hours": 48})["url"].(string)
	client := browsertest.Incognito(t, tab)
	a.page(t, client, strings.TrimPrefix(link, a.base))
	txt = a.page(t, client, "/client/buy/"+id(offer)+"?plan=upfront")
	mustContain(t, txt, "A written training plan", "Gym membership", "60 minutes", "Twice a week", "Video call: €20", "Bring water.",
		"it costs a fee of €15.00")
	if strings.Contains(txt, "Un plan de entrenamiento") {
		t.Error("an English client reads the Spanish point")
	}

	// A key made on the settings page works, then is revoked and refused.
	a.page(t, tab, "/app/settings")
	submit(t, tab, `#keys button:not(.danger)`, `#label`, "Zapier")
	newKey := browsertest.Eval[string](t, tab, `document.querySelector("#new-key").textContent`)
	if r := a.do("GET", "/v1/clients", newKey, nil); r.Status != 200 {
		t.Fatalf("the new key: %d", r.Status)
	}
	var keyID int64
	if err := a.m.DB.Get(&keyID, `SELECT id FROM api_keys WHERE coach_id = $1 AND label = 'Zapier'`, coach.ID); err != nil {
		t.Fatal(err)
	}
	txt = submit(t, tab, fmt.Sprintf(`#key-%d button`, keyID))
	mustContain(t, txt, "The key is revoked", "Revoked on")
	if r := a.do("GET", "/v1/clients", newKey, nil); r.Status != 401 {
		t.Fatalf("a revoked key answered %d", r.Status)
	}

	// Another coach's client and anomaly are 404 pages, in words.
	other := browsertest.Incognito(t, tab)
	a.coachIn(t, other, "autre@example.com", "fr")
	for _, path := range []string{fmt.Sprintf("/app/clients/%v", c["id"]), fmt.Sprintf("/app/anomalies/%d", anomaly)} {
		txt := a.page(t, other, path)
		if st := browsertest.Status(t, other); st != 404 {
			t.Errorf("%s for another coach: %d", path, st)
		}
		mustContain(t, txt, "Page introuvable", "Cette page n'existe pas, ou elle n'est pas à vous.")
		if strings.Contains(txt, "Emma") {
			t.Errorf("%s shows another coach's client", path)
		}
	}
}

// sendEvent posts a signed Stripe event to the running program.
func (a *app) sendEvent(t *testing.T, typ string, obj map[string]any) {
	t.Helper()
	payload := []byte(jsonString(map[string]any{"id": fmt.Sprintf("evt_%d", time.Now().UnixNano()), "object": "event",
		"api_version": "2023-10-16", "created": a.clock().Unix(), "type": typ, "livemode": false,
		"data": map[string]any{"object": obj}}))
	signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: a.m.webhookSecret,
		Timestamp: time.Now()})
	r := a.do("POST", "/webhooks/stripe", "", string(payload), "Stripe-Signature", signed.Header)
	if r.Status != 200 {
		t.Fatalf("%s: %d %s", typ, r.Status, r.Body)
	}
}

func (a *app) clientID(email string) int64 {
	a.t.Helper()
	var id int64
	if err := a.m.DB.Get(&id, `SELECT id FROM clients WHERE email = $1`, email); err != nil {
		a.t.Fatal(err)
	}
	return id
}

func (a *app) lastSession() int64 {
	a.t.Helper()
	var id int64
	if err := a.m.DB.Get(&id, `SELECT max(id) FROM sessions`); err != nil {
		a.t.Fatal(err)
	}
	return id
}

func (a *app) bookingOf(session, client int64) int64 {
	a.t.Helper()
	var id int64
	if err := a.m.DB.Get(&id, `SELECT id FROM bookings WHERE session_id = $1 AND client_id = $2`, session, client); err != nil {
		a.t.Fatal(err)
	}
	return id
}
