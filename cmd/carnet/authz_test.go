package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"carnet/internal/auth"
	"carnet/web"
)

// The authorization matrix, generated from web/openapi.yaml: every route
// that needs a credential, called with none, a malformed one, a revoked
// key, another coach's key, another client's link and an expired link.
// Nothing of the victim (coach A's client "Secret") is readable, nothing of
// theirs changes.
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	a := startAppWith(t, "", func(m *Main) { m.TrustedProxies = []string{"127.0.0.1"} })
	ctx := context.Background()
	keyA, keyB := a.coach("authz-a@example.com"), a.coach("authz-b@example.com")
	victim := a.must(201, "POST", "/v1/clients", keyA, map[string]any{"name": "Secret Victim", "email": "secret-victim@example.com", "notes": "Secret notes"})
	other := a.must(201, "POST", "/v1/clients", keyA, map[string]any{"name": "Other", "email": "other@example.com"})
	a.must(201, "POST", "/v1/clients", keyB, map[string]any{"name": "B's own", "email": "bown@example.com"})
	offer := a.must(201, "POST", "/v1/offers", keyA, map[string]any{"name": "Secret offer", "kind": "sessions", "sessions": 10, "price_amount": 45000, "installments": 3})
	pack := a.must(201, "POST", "/v1/clients/"+id(victim)+"/packs", keyA, map[string]any{"offer_id": offer["id"], "method": "cash"})
	sess := a.must(201, "POST", "/v1/sessions", keyA, map[string]any{"title": "Secret session", "starts_at": a.clock().Add(48 * time.Hour), "client_ids": []any{victim["id"]}})
	booking := sess["bookings"].([]any)[0].(map[string]any)
	var anomaly int64
	if err := a.m.DB.Get(&anomaly, `INSERT INTO anomalies (coach_id, pack_id, client_id, kind, cause_key, excess_amount, currency)
		VALUES ((SELECT coach_id FROM clients WHERE id = $1), $2, $1, 'duplicate_charge', 'authz:1', 100, 'EUR') RETURNING id`,
		victim["id"], pack["id"]); err != nil {
		t.Fatal(err)
	}
	revoked, err := auth.IssueKey(ctx, a.m.DB, coachID(t, a, keyA), "to revoke")
	if err != nil {
		t.Fatal(err)
	}
	a.must(200, "GET", "/v1/clients", revoked, nil)
	keys, err := auth.APIKeys(ctx, a.m.DB, coachID(t, a, keyA))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Label == "to revoke" {
			if err := auth.RevokeKey(ctx, a.m.DB, coachID(t, a, keyA), k.ID, a.clock()); err != nil {
				t.Fatal(err)
			}
		}
	}
	victimLink := a.must(201, "POST", "/v1/clients/"+id(victim)+"/links", keyA, map[string]any{"ttl_hours": 1})["token"].(string)
	otherLink := a.must(201, "POST", "/v1/clients/"+id(other)+"/links", keyA, nil)["token"].(string)
	links, err := auth.NewLinks(ctx, a.m.DB, "", a.clock)
	if err != nil {
		t.Fatal(err)
	}
	expired, _ := links.Issue(coachID(t, a, keyA), int64(victim["id"].(float64)), -time.Minute)

	ids := map[string]string{"/v1/clients/": id(victim), "/v1/offers/": id(offer), "/v1/sessions/": id(sess),
		"/v1/bookings/": id(booking), "/v1/anomalies/": fmt.Sprint(anomaly), "/v1/me/bookings/": id(booking)}
	fill := strings.NewReplacer("CLIENT", id(victim), "OFFER", id(offer), "PACK", id(pack), "SESSION", id(sess),
		"BOOKING", id(booking), "ANOMALY", fmt.Sprint(anomaly))
	bodies := map[string]string{}
	for _, r := range fuzzRoutes {
		p := r.path
		for _, ph := range []string{"CLIENT", "OFFER", "SESSION", "BOOKING", "ANOMALY"} {
			p = strings.ReplaceAll(p, ph, "{id}")
		}
		bodies[r.method+" "+p] = fill.Replace(r.seed)
	}

	var doc struct {
		Security []map[string]any                `yaml:"security"`
		Paths    map[string]map[string]yaml.Node `yaml:"paths"`
	}
	if err := yaml.Unmarshal(web.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	before := victimSnapshot(a, id(victim), coachID(t, a, keyA))
	addr := 0
	call := func(method, path, token, body string) reply {
		addr++ // each attempt from its own address: the throttle is tested elsewhere
		return a.do(method, path, token, body, "X-Forwarded-For", fmt.Sprintf("10.9.%d.%d", addr/250, addr%250+1))
	}
	var routes []string
	for path, ops := range doc.Paths {
		for method, op := range ops {
			if method == "parameters" {
				continue
			}
			var o struct {
				Security *[]map[string]any `yaml:"security"`
			}
			_ = op.Decode(&o)
			if o.Security != nil && len(*o.Security) == 0 {
				continue // public: the documents, health, pages, the signed webhook
			}
			routes = append(routes, strings.ToUpper(method)+" "+path)
		}
	}
	sort.Strings(routes)
	if len(routes) < 30 {
		t.Fatalf("only %d secured routes found in openapi.yaml", len(routes))
	}
	for _, rt := range routes {
		method, tmpl, _ := strings.Cut(rt, " ")
		path := tmpl
		if i := strings.Index(tmpl, "{id}"); i >= 0 {
			path = strings.Replace(tmpl, "{id}", ids[tmpl[:i]], 1)
		}
		body := bodies[rt]
		if body == "" && method != "GET" {
			body = "{}"
		}
		clientRoute := strings.HasPrefix(tmpl, "/v1/me")
		denied := map[string]string{"no credential": "", "malformed": "ck_not-a-key", "garbage link": "cl_1.2.3.x",
			"revoked key": revoked, "expired link": expired}
		if clientRoute {
			denied["a coach's API key"] = keyA
		} else {
			denied["a client link"] = victimLink
		}
		for name, token := range denied {
			if r := call(method, path, token, body); r.Status != 401 || r.code(t) != "unauthorized" {
				t.Errorf("%s with %s: %d %.200s", rt, name, r.Status, r.Body)
			}
		}
		// Someone properly signed in, but not the victim's coach or the victim.
		intruder, who := keyB, "another coach"
		if clientRoute {
			intruder, who = otherLink, "another client's link"
		}
		r := call(method, path, intruder, body)
		if strings.Contains(tmpl, "{id}") && r.Status != 404 {
			t.Errorf("%s as %s: %d %.200s, want 404", rt, who, r.Status, r.Body)
		}
		if r.Status >= 500 || strings.Contains(string(r.Body), "Secret") || strings.Contains(string(r.Body), "secret-victim") {
			t.Errorf("%s as %s: %d, reads the victim's data: %.300s", rt, who, r.Status, r.Body)
		}
	}
	t.Logf("%d secured routes, %d requests", len(routes), addr)
	if after := victimSnapshot(a, id(victim), coachID(t, a, keyA)); after != before {
		t.Fatalf("the victim's data changed:\n%s\n%s", before, after)
	}
	// The victim's own credentials still work: nothing above locked them out.
	a.must(200, "GET", "/v1/me", victimLink, nil)
	a.must(200, "GET", "/v1/clients/"+id(victim), keyA, nil)
}

func coachID(t *testing.T, a *app, key string) int64 {
	t.Helper()
	var id int64
	if err := a.m.DB.Get(&id, `SELECT coach_id FROM api_keys WHERE key_hash = sha256(convert_to($1, 'UTF8'))`, key); err != nil {
		t.Fatal(err)
	}
	return id
}

// victimSnapshot is everything of coach A's that an intruder must not
// change: the victim client's rows and the coach's catalogue and records
// (offers without Stripe's ids, which another client's checkout may set).
func victimSnapshot(a *app, clientID string, coach int64) string {
	var s string
	err := a.m.DB.Get(&s, `SELECT concat_ws(E'\n',
		(SELECT json_agg(x ORDER BY id)::text FROM clients x WHERE id = $1),
		(SELECT json_agg(x ORDER BY id)::text FROM packs x WHERE client_id = $1),
		(SELECT json_agg(x ORDER BY id)::text FROM bookings x WHERE client_id = $1),
		(SELECT json_agg(x ORDER BY id)::text FROM ledger_entries x WHERE pack_id IN (SELECT id FROM packs WHERE client_id = $1)),
		(SELECT json_agg(x ORDER BY id)::text FROM sessions x WHERE coach_id = $2),
		(SELECT json_agg(json_build_array(id, name, price_amount, archived_at) ORDER BY id)::text FROM offers WHERE coach_id = $2),
		(SELECT json_agg(x ORDER BY id)::text FROM charter_versions x WHERE coach_id = $2),
		(SELECT json_agg(x ORDER BY id)::text FROM anomalies x WHERE coach_id = $2),
		(SELECT json_agg(json_build_array(id, revoked_at IS NULL) ORDER BY id)::text FROM api_keys WHERE coach_id = $2))`,
		clientID, coach)
	if err != nil {
		a.t.Fatal(err)
	}
	return s
}
