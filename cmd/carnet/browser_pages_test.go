package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"carnet/internal/browsertest"
)

// Every page of the coach's app, at phone width (375 px, touch) without
// horizontal scrolling, and at desktop width with no serious or critical
// accessibility violation (axe-core). With CARNET_SCREENSHOTS=DIR set
// (`make screenshots`), it also writes each page, desktop and phone, there.
func TestBrowserEveryPage(t *testing.T) {
	t.Parallel()
	a, _ := startBrowserApp(t)
	tab := browsertest.New(t)
	coach, key := a.coachIn(t, tab, "camille@example.com", "fr")
	a.must(201, "POST", "/v1/charter", key, map[string]any{"notice_hours": 24, "late_cancel_action": "deduct",
		"no_show_action": "deduct", "grace_days": 5})
	ten := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10 séances", "kind": "sessions", "sessions": 10, "price_amount": 45000, "installments": 3})
	a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "3 mois illimités", "kind": "period", "months": 3, "price_amount": 45000})
	var clients []int64
	for _, c := range [][3]string{{"Léa Dubois", "lea@example.com", "fr"}, {"Mateo García", "mateo@example.com", "es"},
		{"Emma Clarke-Fitzgerald de la Tour", "emma.clarke-fitzgerald@a-very-long-domain-name.example", "en"}} {
		m := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": c[0], "email": c[1], "locale": c[2]})
		clients = append(clients, int64(m["id"].(float64)))
	}
	for _, cl := range clients[:2] {
		a.must(201, "POST", fmt.Sprintf("/v1/clients/%d/packs", cl), key, map[string]any{"offer_id": ten["id"], "method": "cash"})
	}
	co := a.must(201, "POST", "/v1/checkout", key, map[string]any{"client_id": clients[2], "offer_id": ten["id"], "plan": "installments"})
	pack := int64(co["pack_id"].(float64))
	if r, err := http.PostForm(a.base+localCheckoutPath(co), map[string][]string{"action": {"card"}}); err != nil {
		t.Fatal(err)
	} else {
		r.Body.Close()
	}
	// The next two installments, taken the same night: an anomaly.
	for i, inv := range []string{"in_night_2", "in_night_3"} {
		a.sendEvent(t, "invoice.paid", map[string]any{"id": inv, "object": "invoice", "subscription": a.subscriptionOf(pack),
			"amount_due": 15000, "amount_paid": 15000, "currency": "eur", "status": "paid", "billing_reason": "subscription_cycle",
			"charge": fmt.Sprintf("ch_night_%d", i), "payment_intent": fmt.Sprintf("pi_night_%d", i), "customer": nil})
	}
	sess := a.must(201, "POST", "/v1/sessions", key, map[string]any{"title": "Cardio", "starts_at": "2026-11-02T08:00:00Z",
		"duration_minutes": 60, "kind": "group", "client_ids": clients})
	a.must(201, "POST", "/v1/sessions", key, map[string]any{"starts_at": "2026-11-02T16:00:00Z", "duration_minutes": 45,
		"client_ids": clients[:1]})
	var anomaly int64
	_ = a.m.DB.Get(&anomaly, `SELECT coalesce(max(id), 0) FROM anomalies WHERE coach_id = $1`, coach.ID)
	booking := a.bookingOf(int64(sess["id"].(float64)), clients[0])

	pages := map[string]string{
		"today": "/app", "week": "/app?period=week", "clients": "/app/clients", "client": fmt.Sprintf("/app/clients/%d", clients[2]),
		"outcome": fmt.Sprintf("/app/bookings/%d/outcome?outcome=attended", booking), "sessions": "/app/sessions",
		"session_new": "/app/sessions/new", "session": fmt.Sprintf("/app/sessions/%v", sess["id"]), "anomalies": "/app/anomalies",
		"offers": "/app/offers", "settings": "/app/settings", "reports": "/app/reports",
	}
	for _, r := range []string{"attendance", "owed", "concentration", "reliability", "coach-cancellations", "payments-due", "incidents"} {
		pages["report-"+r] = "/app/reports/" + r
	}
	if anomaly != 0 {
		pages["anomaly"] = fmt.Sprintf("/app/anomalies/%d", anomaly)
	} else {
		t.Error("no anomaly was opened for the installments taken at once")
	}
	shots := os.Getenv("CARNET_SCREENSHOTS")
	for name, path := range pages {
		browsertest.Viewport(t, tab, browsertest.DesktopWidth, browsertest.DesktopHeight, false)
		txt := a.page(t, tab, path)
		if strings.Contains(txt, "{{") || strings.Contains(txt, "<no value>") || strings.Contains(txt, "error.") {
			t.Errorf("%s shows a placeholder: %s", path, txt)
		}
		for _, v := range browsertest.Axe(t, tab) {
			t.Errorf("%s: %s", path, v)
		}
		if shots != "" {
			browsertest.Screenshot(t, tab, filepath.Join(shots, name+"-desktop.png"))
		}
		browsertest.Viewport(t, tab, browsertest.PhoneWidth, browsertest.PhoneHeight, true)
		a.page(t, tab, path)
		if over := browsertest.HorizontalOverflow(t, tab); len(over) > 0 {
			t.Errorf("%s scrolls sideways at %d px: %v", path, browsertest.PhoneWidth, over)
		}
		if shots != "" {
			browsertest.Screenshot(t, tab, filepath.Join(shots, name+"-phone.png"))
		}
	}
	// The sign-in page, signed out.
	out := browsertest.Incognito(t, tab)
	browsertest.Viewport(t, out, browsertest.PhoneWidth, browsertest.PhoneHeight, true)
	a.page(t, out, "/app/signin")
	if over := browsertest.HorizontalOverflow(t, out); len(over) > 0 {
		t.Errorf("the sign-in page scrolls sideways: %v", over)
	}
	for _, v := range browsertest.Axe(t, out) {
		t.Errorf("/app/signin: %s", v)
	}
	if shots != "" {
		browsertest.Screenshot(t, out, filepath.Join(shots, "signin-phone.png"))
	}
}

func (a *app) subscriptionOf(pack int64) string {
	a.t.Helper()
	var sub *string
	if err := a.m.DB.Get(&sub, `SELECT stripe_subscription_id FROM packs WHERE id = $1`, pack); err != nil || sub == nil {
		a.t.Fatalf("pack %d has no subscription: %v", pack, err)
	}
	return *sub
}
