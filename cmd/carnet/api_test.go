package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"carnet/internal/api"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	a.must(200, "GET", "/healthz", "", nil)
	if got := a.must(200, "GET", "/readyz", "", nil)["status"]; got != "ready" {
		t.Fatalf("readyz status = %v", got)
	}
	r := a.do("GET", "/healthz", "", nil, "X-Request-Id", "trace-123")
	if r.Header.Get("X-Request-Id") != "trace-123" {
		t.Fatalf("request id not echoed: %q", r.Header.Get("X-Request-Id"))
	}
}

func TestAuthRequired(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	for _, tok := range []string{"", "ck_nope", "something"} {
		r := a.do("GET", "/v1/clients", tok, nil)
		if r.Status != 401 || r.code(t) != "unauthorized" {
			t.Fatalf("token %q: %d %s", tok, r.Status, r.Body)
		}
	}
	// A coach key is no client link, and the reverse.
	key := a.coach("auth@example.com")
	if r := a.do("GET", "/v1/me", key, nil); r.Status != 401 {
		t.Fatalf("/v1/me with a coach key: %d", r.Status)
	}
}

func TestClientsLifecycle(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("clients@example.com")

	c := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa", "email": "lea@example.com", "locale": "es"})
	if c["locale"] != "es" || c["name"] != "Léa" {
		t.Fatalf("created %v", c)
	}
	path := "/v1/clients/" + id(c)
	if got := a.must(200, "GET", path, key, nil); got["email"] != "lea@example.com" {
		t.Fatalf("get %v", got)
	}
	up := a.must(200, "PATCH", path, key, map[string]any{"phone": "+33 6 00 00 00 00"})
	if up["phone"] != "+33 6 00 00 00 00" || up["name"] != "Léa" {
		t.Fatalf("patch changed the wrong fields: %v", up)
	}
	// Same email twice in one roster is a conflict, and case does not help.
	r := a.do("POST", "/v1/clients", key, map[string]any{"name": "Other", "email": "LEA@example.com"})
	if r.Status != 409 || r.code(t) != "conflict" {
		t.Fatalf("duplicate email: %d %s", r.Status, r.Body)
	}
	// A bad patch changes nothing.
	if r := a.do("PATCH", path, key, map[string]any{"locale": "de"}); r.Status != 400 {
		t.Fatalf("bad locale: %d", r.Status)
	}
	if got := a.must(200, "GET", path, key, nil); got["locale"] != "es" {
		t.Fatalf("rejected patch changed the client: %v", got)
	}
}

func TestClientsPagination(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("pages@example.com")
	for i := range 7 {
		a.must(201, "POST", "/v1/clients", key, map[string]any{"name": fmt.Sprint("C", i), "email": fmt.Sprintf("c%d@example.com", i)})
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		page := a.must(200, "GET", "/v1/clients?limit=3&cursor="+cursor, key, nil)
		pages++
		for _, c := range page["data"].([]any) {
			name := c.(map[string]any)["name"].(string)
			if seen[name] {
				t.Fatalf("client %s on two pages", name)
			}
			seen[name] = true
		}
		next, _ := page["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(seen) != 7 || pages != 3 {
		t.Fatalf("saw %d clients over %d pages, want 7 over 3", len(seen), pages)
	}
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "cursor=zzz"} {
		if r := a.do("GET", "/v1/clients?"+q, key, nil); r.Status != 400 || r.code(t) != "invalid" {
			t.Fatalf("%s: %d %s", q, r.Status, r.Body)
		}
	}
}

func TestBadInputIsA4xxAndChangesNothing(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("bad@example.com")
	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"malformed JSON", "POST", "/v1/clients", `{"name":`, 400, ""},
		{"not an object", "POST", "/v1/clients", `[1,2]`, 400, ""},
		{"empty body", "POST", "/v1/clients", ``, 400, ""},
		{"two objects", "POST", "/v1/clients", `{"name":"a","email":"a@b.co"} {}`, 400, ""},
		{"unknown field", "POST", "/v1/clients", map[string]any{"name": "A", "email": "a@b.co", "balance": 3}, 400, "balance"},
		{"wrong type", "POST", "/v1/clients", map[string]any{"name": 12, "email": "a@b.co"}, 400, "name"},
		{"missing name", "POST", "/v1/clients", map[string]any{"email": "a@b.co"}, 400, "name"},
		{"bad email", "POST", "/v1/clients", map[string]any{"name": "A", "email": "nope"}, 400, "email"},
		{"bad locale", "POST", "/v1/clients", map[string]any{"name": "A", "email": "a@b.co", "locale": "de"}, 400, "locale"},
		{"huge body", "POST", "/v1/clients", `{"name":"` + strings.Repeat("x", 2<<20) + `"}`, 413, ""},
		{"bad id", "GET", "/v1/clients/abc", nil, 404, ""},
		{"negative id", "GET", "/v1/clients/-4", nil, 404, ""},
		{"unknown id", "GET", "/v1/clients/999999", nil, 404, ""},
		{"unknown route", "GET", "/v1/nothing", nil, 404, ""},
		{"wrong method", "DELETE", "/v1/clients", nil, 405, ""},
		{"bad offer status filter", "GET", "/v1/offers?status=gone", nil, 400, "status"},
		{"bad link ttl", "POST", "/v1/clients/1/links", map[string]any{"ttl_hours": 0}, 400, "ttl_hours"},
		{"NUL in text", "POST", "/v1/clients", `{"name":"a\u0000b","email":"a@b.co"}`, 400, ""},
		{"huge number", "POST", "/v1/offers", `{"name":"x","kind":"sessions","sessions":5,"price_amount":1e30}`, 400, "price_amount"},
		{"null fields", "POST", "/v1/offers", `{"name":null,"kind":null,"price_amount":null}`, 400, ""},
	}
	for _, tc := range cases {
		r := a.do(tc.method, tc.path, key, tc.body)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d: %.200s", tc.name, r.Status, tc.status, r.Body)
			continue
		}
		e, ok := r.json(t)["error"].(map[string]any)
		if !ok || e["code"] == "" || e["message"] == "" {
			t.Errorf("%s: not the error shape: %.200s", tc.name, r.Body)
			continue
		}
		if tc.field != "" && e["field"] != tc.field {
			t.Errorf("%s: field %v, want %s", tc.name, e["field"], tc.field)
		}
	}
	if n := a.count(`SELECT count(*) FROM clients`); n != 0 {
		t.Fatalf("bad requests created %d clients", n)
	}
}

func TestOffers(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("offers@example.com")
	o := a.must(201, "POST", "/v1/offers", key, map[string]any{
		"name": "10 sessions", "kind": "sessions", "sessions": 10, "price_amount": 45000, "installments": 3})
	if o["currency"] != "EUR" || o["validity_days"] != float64(180) || o["upfront"] != true {
		t.Fatalf("defaults not applied: %v", o)
	}
	p := a.must(201, "POST", "/v1/offers", key, map[string]any{
		"name": "3 months", "kind": "period", "months": 3, "weekly_cap": 2, "price_amount": 30000,
		"upfront": false, "installments": 3})
	path := "/v1/offers/" + id(o)
	a.must(200, "GET", path, key, nil)

	archived := a.must(200, "POST", path+"/archive", key, nil)
	if archived["archived_at"] == nil {
		t.Fatalf("archive: %v", archived)
	}
	again := a.must(200, "POST", path+"/archive", key, nil)
	if again["archived_at"] != archived["archived_at"] {
		t.Fatalf("archiving twice moved the date: %v then %v", archived["archived_at"], again["archived_at"])
	}
	active := a.must(200, "GET", "/v1/offers", key, nil)["data"].([]any)
	if len(active) != 1 || id(active[0].(map[string]any)) != id(p) {
		t.Fatalf("active offers: %v", active)
	}
	if n := len(a.must(200, "GET", "/v1/offers?status=archived", key, nil)["data"].([]any)); n != 1 {
		t.Fatalf("archived offers: %d", n)
	}
	if n := len(a.must(200, "GET", "/v1/offers?status=all", key, nil)["data"].([]any)); n != 2 {
		t.Fatalf("all offers: %d", n)
	}
	r := a.do("POST", "/v1/offers", key, map[string]any{"name": "x", "kind": "sessions", "sessions": 4, "price_amount": 1})
	if r.Status != 400 || r.code(t) != "invalid" {
		t.Fatalf("4 sessions accepted: %d %s", r.Status, r.Body)
	}
	r = a.do("POST", "/v1/offers", key, map[string]any{"name": "x", "kind": "sessions", "sessions": 5, "price_amount": 100, "currency": "USD"})
	if r.Status != 400 {
		t.Fatalf("foreign currency accepted: %d %s", r.Status, r.Body)
	}
}

func TestIdempotencyKeys(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("idem@example.com")
	body := map[string]any{"name": "Léa", "email": "lea@example.com"}

	first := a.do("POST", "/v1/clients", key, body, "Idempotency-Key", "k1")
	second := a.do("POST", "/v1/clients", key, body, "Idempotency-Key", "k1")
	if first.Status != 201 || second.Status != 201 || string(first.Body) != string(second.Body) {
		t.Fatalf("replay differs:\n%d %s\n%d %s", first.Status, first.Body, second.Status, second.Body)
	}
	if second.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatal("replay not marked")
	}
	// Same key, other body: refused, nothing created.
	r := a.do("POST", "/v1/clients", key, map[string]any{"name": "Other", "email": "o@example.com"}, "Idempotency-Key", "k1")
	if r.Status != 422 || r.code(t) != "idempotency_mismatch" {
		t.Fatalf("mismatch: %d %s", r.Status, r.Body)
	}
	// Same key on another path is another request too.
	if r := a.do("POST", "/v1/offers", key, body, "Idempotency-Key", "k1"); r.Status != 422 {
		t.Fatalf("same key on another route: %d", r.Status)
	}
	// An error answer is replayed as well: the request is not run again.
	bad := map[string]any{"name": "", "email": "x@example.com"}
	e1 := a.do("POST", "/v1/clients", key, bad, "Idempotency-Key", "k2")
	e2 := a.do("POST", "/v1/clients", key, bad, "Idempotency-Key", "k2")
	if e1.Status != 400 || string(e1.Body) != string(e2.Body) {
		t.Fatalf("error replay: %s / %s", e1.Body, e2.Body)
	}
	// A key must be printable ASCII.
	if r := a.do("POST", "/v1/clients", key, body, "Idempotency-Key", "caf\xe9"); r.Status != 400 {
		t.Fatalf("non-ASCII key: %d %s", r.Status, r.Body)
	}
	// A claim committed without its answer (only the previous release does
	// that) may still be running there: it is never run again a minute
	// later, only once the hourly purge has given it up.
	retry := map[string]any{"name": "Retry", "email": "retry@example.com"}
	hash := sha256.Sum256([]byte("POST /v1/clients\n" + jsonString(retry)))
	if _, err := a.m.DB.Exec(`INSERT INTO idempotency_keys (scope, key, request_hash, created_at)
		SELECT scope, 'dead', $1, now() - interval '2 minutes' FROM idempotency_keys WHERE key = 'k1'`, hash[:]); err != nil {
		t.Fatal(err)
	}
	if r := a.do("POST", "/v1/clients", key, retry, "Idempotency-Key", "dead"); r.Status != 409 {
		t.Fatalf("a claim two minutes old without its answer: %d %s, want 409 still in progress", r.Status, r.Body)
	}
	if _, err := a.m.DB.Exec(`UPDATE idempotency_keys SET created_at = now() - interval '2 hours' WHERE key = 'dead'`); err != nil {
		t.Fatal(err)
	}
	if _, err := api.PurgeIdempotencyKeys(context.Background(), a.m.DB); err != nil {
		t.Fatal(err)
	}
	a.must(201, "POST", "/v1/clients", key, retry, "Idempotency-Key", "dead")
	// Keys are scoped to the caller: another coach may use "k1".
	other := a.coach("idem2@example.com")
	a.must(201, "POST", "/v1/clients", other, map[string]any{"name": "Z", "email": "z@example.com"}, "Idempotency-Key", "k1")
	// After 24 hours a key may be used again for something new.
	if _, err := a.m.DB.Exec(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'k1'`); err != nil {
		t.Fatal(err)
	}
	a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Later", "email": "later@example.com"}, "Idempotency-Key", "k1")
	if n := a.count(`SELECT count(*) FROM clients`); n != 4 {
		t.Fatalf("%d clients, want 4", n)
	}
}

func TestIdempotencyUnderConcurrency(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("race@example.com")
	body := map[string]any{"name": "Once", "email": "once@example.com"}
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = a.do("POST", "/v1/clients", key, body, "Idempotency-Key", "same").Status
		}()
	}
	wg.Wait()
	for _, s := range statuses {
		// Each either got the first answer or was told the first is still running.
		if s != http.StatusCreated && s != http.StatusConflict {
			t.Fatalf("statuses %v", statuses)
		}
	}
	if n := a.count(`SELECT count(*) FROM clients`); n != 1 {
		t.Fatalf("%d clients created, want 1", n)
	}
}
