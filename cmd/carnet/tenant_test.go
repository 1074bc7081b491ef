package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// Every coach route that names an id must answer 404 to another coach and
// change nothing. A new route fails this test until it has a case here.
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	keyA, keyB := a.coach("a@example.com"), a.coach("b@example.com")
	client := a.must(201, "POST", "/v1/clients", keyA, map[string]any{"name": "A's client", "email": "ac@example.com"})
	offer := a.must(201, "POST", "/v1/offers", keyA, map[string]any{"name": "A's offer", "kind": "sessions", "sessions": 5, "price_amount": 100})

	pack := a.must(201, "POST", "/v1/clients/"+id(client)+"/packs", keyA, map[string]any{"offer_id": offer["id"], "method": "cash"})
	sess := a.must(201, "POST", "/v1/sessions", keyA, map[string]any{
		"starts_at": a.clock().Add(-time.Hour), "client_ids": []any{client["id"]}})
	booking := sess["bookings"].([]any)[0].(map[string]any)

	var anomaly int64
	if err := a.m.DB.Get(&anomaly, `INSERT INTO anomalies (coach_id, pack_id, client_id, kind, cause_key, excess_amount, currency)
		VALUES ((SELECT coach_id FROM clients WHERE id = $1), $2, $1, 'duplicate_charge', 'test:1', 100, 'EUR') RETURNING id`,
		client["id"], pack["id"]); err != nil {
		t.Fatal(err)
	}

	ids := map[string]string{"/v1/clients/": id(client), "/v1/offers/": id(offer),
		"/v1/sessions/": id(sess), "/v1/bookings/": id(booking), "/v1/anomalies/": fmt.Sprint(anomaly),
		"/v1/packs/": id(pack)}
	bodies := map[string]any{
		"GET /v1/clients/:id":               nil,
		"PATCH /v1/clients/:id":             map[string]any{"name": "stolen"},
		"POST /v1/clients/:id/links":        map[string]any{},
		"POST /v1/clients/:id/links/revoke": nil,
		"POST /v1/clients/:id/packs":        map[string]any{"offer_id": offer["id"], "method": "cash"},
		"GET /v1/clients/:id/balance":       nil,
		"GET /v1/clients/:id/ledger":        nil,
		"POST /v1/clients/:id/adjustments":  map[string]any{"pack_id": pack["id"], "delta": 3, "reason": "x"},
		"POST /v1/clients/:id/end":          map[string]any{"reason": "x"},
		"GET /v1/offers/:id":                nil,
		"POST /v1/offers/:id/archive":       nil,
		"GET /v1/sessions/:id":              nil,
		"PATCH /v1/sessions/:id":            map[string]any{"title": "stolen"},
		"POST /v1/sessions/:id/cancel":      nil,
		"POST /v1/sessions/:id/attendance":  map[string]any{"outcomes": []any{map[string]any{"client_id": client["id"], "outcome": "attended"}}},
		"POST /v1/bookings/:id/outcome":     map[string]any{"outcome": "attended"},
		"POST /v1/bookings/:id/waiver":      map[string]any{"reason": "x"},
		"GET /v1/anomalies/:id":             nil,
		"POST /v1/anomalies/:id/resolve":    map[string]any{"note": "x"},
		"POST /v1/anomalies/:id/dismiss":    map[string]any{"note": "x"},
		"POST /v1/anomalies/:id/refund":     nil,
		"GET /v1/packs/:id/agreement":       nil,
	}
	before := snapshot(a)
	for _, rt := range a.m.Handler.(*gin.Engine).Routes() {
		if !strings.HasPrefix(rt.Path, "/v1/") || !strings.Contains(rt.Path, ":id") || strings.HasPrefix(rt.Path, "/v1/me") {
			continue
		}
		name := rt.Method + " " + rt.Path
		body, ok := bodies[name]
		if !ok {
			t.Errorf("route %s has no tenant isolation case", name)
			continue
		}
		prefix := rt.Path[:strings.Index(rt.Path, ":id")]
		path := strings.Replace(rt.Path, ":id", ids[prefix], 1)
		if r := a.do(rt.Method, path, keyB, body); r.Status != 404 || r.code(t) != "not_found" {
			t.Errorf("%s as coach B: %d %s", name, r.Status, r.Body)
		}
	}
	// Naming A's client in a body is refused the same way.
	if r := a.do("POST", "/v1/goodwill", keyB, map[string]any{"client_ids": []any{client["id"]}, "sessions": 1, "incident": "x", "note": "x"}); r.Status != 400 {
		t.Errorf("goodwill to A's client as B: %d %s", r.Status, r.Body)
	}
	if r := a.must(200, "GET", "/v1/reports/attendance?client_id="+id(client), keyB, nil); len(r["data"].([]any)) != 0 {
		t.Errorf("B's attendance sheet shows A's client: %v", r["data"])
	}
	if r := a.do("POST", "/v1/sessions", keyB, map[string]any{"starts_at": a.clock(), "client_ids": []any{client["id"]}}); r.Status != 400 {
		t.Errorf("session with A's client as B: %d %s", r.Status, r.Body)
	}
	for _, list := range []string{"/v1/clients", "/v1/offers?status=all", "/v1/balances", "/v1/sessions?period=month",
		"/v1/charter/versions", "/v1/anomalies", "/v1/notifications"} {
		if n := len(a.must(200, "GET", list, keyB, nil)["data"].([]any)); n != 0 {
			t.Errorf("coach B lists %d of A's rows on %s", n, list)
		}
	}
	if after := snapshot(a); after != before {
		t.Fatalf("coach B changed coach A's data:\n%s\n%s", before, after)
	}
	// Goodwill to B's own client cannot name A's session.
	own := a.must(201, "POST", "/v1/clients", keyB, map[string]any{"name": "B's client", "email": "bc@example.com"})
	if r := a.do("POST", "/v1/goodwill", keyB, map[string]any{"client_ids": []any{own["id"]}, "session_id": sess["id"],
		"sessions": 1, "note": "x"}); r.Status != 400 || !strings.Contains(string(r.Body), "no session") {
		t.Errorf("goodwill for A's session as B: %d %s", r.Status, r.Body)
	}
}

func snapshot(a *app) string {
	var s string
	q := ""
	for _, table := range []string{"clients", "offers", "packs", "ledger_entries", "sessions", "bookings", "charter_versions", "anomalies"} {
		q += fmt.Sprintf(`(SELECT coalesce(json_agg(x ORDER BY id), '[]') FROM %s x)::text || `, table)
	}
	if err := a.m.DB.Get(&s, `SELECT `+q+`''`); err != nil {
		a.t.Fatal(err)
	}
	return s
}

func TestClientLinks(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	keyA, keyB := a.coach("la@example.com"), a.coach("lb@example.com")
	c1 := a.must(201, "POST", "/v1/clients", keyA, map[string]any{"name": "One", "email": "one@example.com"})
	c2 := a.must(201, "POST", "/v1/clients", keyA, map[string]any{"name": "Two", "email": "two@example.com"})
	cB := a.must(201, "POST", "/v1/clients", keyB, map[string]any{"name": "Bee", "email": "bee@example.com"})

	link := a.must(201, "POST", "/v1/clients/"+id(c1)+"/links", keyA, map[string]any{"ttl_hours": 2})
	tok := link["token"].(string)
	if !strings.HasSuffix(link["url"].(string), "/c/"+tok) {
		t.Fatalf("link url %v", link["url"])
	}
	if me := a.must(200, "GET", "/v1/me", tok, nil); me["name"] != "One" || me["notes"] != nil {
		t.Fatalf("/v1/me = %v (the coach's notes are not the client's to read)", me)
	}
	// Another coach cannot sign a link for A's client.
	if r := a.do("POST", "/v1/clients/"+id(c2)+"/links", keyB, nil); r.Status != 404 {
		t.Fatalf("coach B linked A's client: %d", r.Status)
	}
	// A link cannot be bent to name another client: the signature breaks.
	parts := strings.Split(tok, ".")
	for _, other := range []string{id(c2), id(cB)} {
		forged := strings.Join([]string{parts[0], other, parts[2], parts[3]}, ".")
		if r := a.do("GET", "/v1/me", forged, nil); r.Status != 401 {
			t.Fatalf("forged link for client %s: %d %s", other, r.Status, r.Body)
		}
	}
	// A client link is no API key.
	if r := a.do("GET", "/v1/clients", tok, nil); r.Status != 401 {
		t.Fatalf("client link on a coach route: %d", r.Status)
	}
	// Expired at its expiry time.
	a.mu.Lock()
	a.now = a.now.Add(2 * time.Hour)
	a.mu.Unlock()
	if r := a.do("GET", "/v1/me", tok, nil); r.Status != 401 || r.code(t) != "unauthorized" {
		t.Fatalf("expired link: %d %s", r.Status, r.Body)
	}
}
