package main

import (
	"strings"
	"testing"
	"time"
)

// goodwillOnce sets up a client with a paid pack and grants it goodwill
// with an Idempotency-Key.
func goodwillOnce(t *testing.T) (*app, string, map[string]any) {
	t.Helper()
	a := startApp(t)
	key := a.coach("once@example.com")
	client := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa", "email": "lea@example.com"})
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10", "kind": "sessions", "sessions": 10,
		"price_amount": 45000, "currency": "EUR", "upfront": true})
	a.must(201, "POST", "/v1/clients/"+id(client)+"/packs", key, map[string]any{"offer_id": offer["id"], "method": "cash"})
	grant := map[string]any{"client_ids": []any{client["id"]}, "sessions": 1, "incident": "salle fermée", "note": "salle fermée", "value_amount": 4500}
	a.must(201, "POST", "/v1/goodwill", key, grant, "Idempotency-Key", "gift-1")
	return a, key, grant
}

// Even with its key row gone (expired, or lost), a request is not applied a
// second time: its rows carry its reference under a unique index.
func TestTheDatabaseRefusesASecondApplication(t *testing.T) {
	t.Parallel()
	a, key, grant := goodwillOnce(t)
	if _, err := a.m.DB.Exec(`DELETE FROM idempotency_keys`); err != nil {
		t.Fatal(err)
	}
	r := a.do("POST", "/v1/goodwill", key, grant, "Idempotency-Key", "gift-1")
	if r.Status != 409 || r.code(t) != "conflict" || !strings.Contains(string(r.Body), "already applied") {
		t.Fatalf("the same request again without its key row: %d %s, want 409 already applied", r.Status, r.Body)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE kind = 'goodwill'`); n != 1 {
		t.Fatalf("%d goodwill entries, want 1", n)
	}
	if n := a.count(`SELECT count(*) FROM notifications WHERE template = 'goodwill_granted'`); n != 1 {
		t.Fatalf("%d goodwill emails, want 1", n)
	}
	// Another body under the same key, once the key expired, is a new request.
	if _, err := a.m.DB.Exec(`DELETE FROM idempotency_keys`); err != nil {
		t.Fatal(err)
	}
	grant["note"] = "deuxième incident"
	a.must(201, "POST", "/v1/goodwill", key, grant, "Idempotency-Key", "gift-1")
}

// carnet verify names a request applied twice (where the unique index is
// missing, as in a database restored without it) and an effect committed
// without its request's answer.
func TestVerifyNamesRequestsAppliedTwiceAndEffectsWithoutAnswer(t *testing.T) {
	t.Parallel()
	a, _, _ := goodwillOnce(t)
	if out, err := runCmd(t, a.m.DatabaseURL, "verify"); err != nil {
		t.Fatalf("verify before: %v\n%s", err, out)
	}
	if _, err := a.m.DB.Exec(`DROP INDEX ledger_entries_request_uq`); err != nil {
		t.Fatal(err)
	}
	if _, err := a.m.DB.Exec(`INSERT INTO ledger_entries (coach_id, client_id, pack_id, kind, delta, reason, value_amount, currency, created_at,
			request_ref, request_seq)
		SELECT coach_id, client_id, pack_id, kind, delta, reason, value_amount, currency, $1, request_ref, request_seq
		FROM ledger_entries WHERE kind = 'goodwill'`, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := a.m.DB.Exec(`UPDATE packs SET sessions_remaining = sessions_remaining + 1
		WHERE id = (SELECT pack_id FROM ledger_entries WHERE kind = 'goodwill' LIMIT 1)`); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, a.m.DatabaseURL, "verify")
	if err == nil || !strings.Contains(out, "request applied more than once: request ") || !strings.Contains(out, "ledger row 1 written 2 times") {
		t.Fatalf("verify after a double application: %v\n%s", err, out)
	}
	if _, err := a.m.DB.Exec(`DELETE FROM idempotency_keys WHERE key = 'gift-1'`); err != nil {
		t.Fatal(err)
	}
	out, _ = runCmd(t, a.m.DatabaseURL, "verify")
	if !strings.Contains(out, "request effect without its answer: notification ") {
		t.Fatalf("verify with an effect whose answer is missing:\n%s", out)
	}
}
