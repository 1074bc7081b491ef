package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
)

// fuzzRoutes is every route that reads a JSON body, with a valid body to
// start from. Placeholders are the fixture's ids. A route added without a
// case here fails TestEveryJSONRouteIsFuzzed.
var fuzzRoutes = []struct {
	method, path string
	client       bool // called with the client link instead of the API key
	seed         string
}{
	{"POST", "/v1/clients", false, `{"name": "Léa", "email": "lea@example.com", "locale": "fr", "phone": "+33 6", "notes": "n"}`},
	{"PATCH", "/v1/clients/CLIENT", false, `{"name": "Léa B", "notes": "x"}`},
	{"POST", "/v1/clients/CLIENT/links", false, `{"ttl_hours": 2}`},
	{"POST", "/v1/clients/CLIENT/links/revoke", false, `{}`},
	{"POST", "/v1/clients/CLIENT/end", false, `{"reason": "moving away"}`},
	{"POST", "/v1/clients/CLIENT/packs", false, `{"offer_id": OFFER, "method": "cash"}`},
	{"POST", "/v1/clients/CLIENT/adjustments", false, `{"pack_id": PACK, "delta": 1, "reason": "x"}`},
	{"POST", "/v1/goodwill", false, `{"client_ids": [CLIENT], "sessions": 1, "incident": "power cut", "note": "sorry", "value_amount": 100}`},
	{"POST", "/v1/offers", false, `{"name": "5", "kind": "sessions", "sessions": 5, "price_amount": 100, "installments": 2}`},
	{"POST", "/v1/offers/OFFER/archive", false, `{}`},
	{"POST", "/v1/charter", false, `{"notice_hours": 24, "late_cancel_action": "fee", "late_cancel_fee": 500, "grace_days": 3}`},
	{"POST", "/v1/sessions", false, `{"starts_at": "2026-11-02T10:00:00Z", "client_ids": [CLIENT], "title": "t", "duration_minutes": 60}`},
	{"PATCH", "/v1/sessions/SESSION", false, `{"title": "t2"}`},
	{"POST", "/v1/sessions/SESSION/cancel", false, `{}`},
	{"POST", "/v1/sessions/SESSION/attendance", false, `{"outcomes": [{"client_id": CLIENT, "outcome": "attended"}]}`},
	{"POST", "/v1/bookings/BOOKING/outcome", false, `{"outcome": "no_show"}`},
	{"POST", "/v1/bookings/BOOKING/waiver", false, `{"reason": "x"}`},
	{"POST", "/v1/anomalies/ANOMALY/resolve", false, `{"note": "x"}`},
	{"POST", "/v1/anomalies/ANOMALY/dismiss", false, `{"note": "x"}`},
	{"POST", "/v1/anomalies/ANOMALY/refund", false, `{}`},
	{"POST", "/v1/checkout", false, `{"client_id": CLIENT, "offer_id": OFFER, "plan": "upfront"}`},
	{"POST", "/v1/me/checkout", true, `{"offer_id": OFFER, "plan": "installments"}`},
	{"POST", "/v1/me/bookings/BOOKING/cancel", true, `{}`},
	{"POST", "/v1/me/bookings/BOOKING/confirm", true, `{}`},
	{"PATCH", "/v1/reports/settings", false, `{"reliability_threshold": 3}`},
}

// fuzzFixture is one coach with a client, an offer, a pack, a session with
// its booking and an anomaly: what the routes' ids name.
type fuzzFixture struct {
	a          *app
	key, link  string
	placeholds *strings.Replacer
}

func newFuzzFixture(t testing.TB) *fuzzFixture {
	a := startApp(t)
	key := a.coach("fuzz@example.com")
	cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "F", "email": "f@example.com"})
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10", "kind": "sessions", "sessions": 10, "price_amount": 45000, "installments": 3})
	pack := a.must(201, "POST", "/v1/clients/"+id(cl)+"/packs", key, map[string]any{"offer_id": offer["id"], "method": "cash"})
	sess := a.must(201, "POST", "/v1/sessions", key, map[string]any{"starts_at": a.clock().Add(48 * time.Hour), "client_ids": []any{cl["id"]}})
	booking := sess["bookings"].([]any)[0].(map[string]any)
	link := a.must(201, "POST", "/v1/clients/"+id(cl)+"/links", key, nil)["token"].(string)
	var anomaly int64
	if err := a.m.DB.Get(&anomaly, `INSERT INTO anomalies (coach_id, pack_id, client_id, kind, cause_key, excess_amount, currency)
		VALUES ((SELECT coach_id FROM clients WHERE id = $1), $2, $1, 'duplicate_charge', 'fuzz:1', 100, 'EUR') RETURNING id`,
		cl["id"], pack["id"]); err != nil {
		t.Fatal(err)
	}
	return &fuzzFixture{a: a, key: key, link: link, placeholds: strings.NewReplacer("CLIENT", id(cl), "OFFER", id(offer),
		"PACK", id(pack), "SESSION", id(sess), "BOOKING", id(booking), "ANOMALY", fmt.Sprint(anomaly))}
}

// Every JSON body the API accepts, mutated: never a panic, never a 5xx.
// Seeds: a valid body per route (testdata/fuzz/FuzzJSONBodies holds more).
func FuzzJSONBodies(f *testing.F) {
	for i, r := range fuzzRoutes {
		f.Add(uint8(i), []byte(r.seed))
	}
	fx := newFuzzFixture(f)
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		fx.a.t = t // inputs run one at a time in a process; helpers report to this one
		token := fx.key
		if r.client {
			token = fx.link
		}
		res := fx.a.do(r.method, fx.placeholds.Replace(r.path), token, fx.placeholds.Replace(string(body)))
		if res.Status >= 500 {
			t.Fatalf("%s %s %q: %d %s", r.method, r.path, body, res.Status, res.Body)
		}
	})
}

// A route that reads a body and is not fuzzed fails here.
func TestEveryJSONRouteIsFuzzed(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	fuzzed := map[string]bool{}
	for _, r := range fuzzRoutes {
		p := r.path
		for _, ph := range []string{"CLIENT", "OFFER", "SESSION", "BOOKING", "ANOMALY"} {
			p = strings.ReplaceAll(p, ph, ":id")
		}
		fuzzed[r.method+" "+p] = true
	}
	for _, rt := range a.m.Handler.(interface{ Routes() gin.RoutesInfo }).Routes() {
		if (rt.Method == "POST" || rt.Method == "PATCH" || rt.Method == "PUT") && strings.HasPrefix(rt.Path, "/v1/") && !fuzzed[rt.Method+" "+rt.Path] {
			t.Errorf("%s %s reads a body and has no fuzz case", rt.Method, rt.Path)
		}
	}
}
