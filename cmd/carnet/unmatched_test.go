package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stripe/stripe-go/v76/webhook"

	"carnet/internal/testdb"
)

// Point 13 of issue 11: a payment from a Stripe customer no coach knows is
// listed for whoever runs Carnet, who settles it with a note.
func TestUnmatchedPaymentOfNobodysCustomer(t *testing.T) {
	t.Parallel()
	url := testdb.URLOf(t, testdb.New(t))
	a := startAppOn(t, url)
	payload, _ := json.Marshal(map[string]any{"id": "evt_orphan", "object": "event", "api_version": "2023-10-16",
		"created": a.now.Unix(), "type": "payment_intent.succeeded", "livemode": false,
		"data": map[string]any{"object": map[string]any{"id": "pi_orphan", "object": "payment_intent", "amount": 7000,
			"amount_received": 7000, "currency": "eur", "status": "succeeded", "metadata": map[string]any{},
			"latest_charge": "ch_orphan", "customer": "cus_nobody"}}})
	sig := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: a.m.webhookSecret, Timestamp: time.Now()}).Header
	if r := a.do("POST", "/webhooks/stripe", "", string(payload), "Stripe-Signature", sig); r.Status != 200 {
		t.Fatalf("webhook: %d %s", r.Status, r.Body)
	}
	var row struct {
		ID     int64  `db:"id"`
		Amount int64  `db:"excess_amount"`
		Coach  *int64 `db:"coach_id"`
	}
	if err := a.m.DB.Get(&row, `SELECT id, excess_amount, coach_id FROM anomalies WHERE kind = 'unmatched_payment'`); err != nil || row.Coach != nil {
		t.Fatalf("the orphan payment: %+v %v", row, err)
	}
	out, err := runCmd(t, url, "unmatched")
	if err != nil || !strings.Contains(out, "€70.00\tpi_orphan\tcus_nobody\t") || !strings.HasSuffix(strings.TrimSpace(out), "open") {
		t.Fatalf("carnet unmatched: %v\n%s", err, out)
	}
	if _, err := runCmd(t, url, "unmatched", "settle", "12345", "nothing"); err == nil {
		t.Fatal("settled a payment that does not exist")
	}
	note := "refunded from the Stripe dashboard"
	for range 2 { // a retry of the same settlement is fine
		if out, err := runCmd(t, url, "unmatched", "settle", jsonString(row.ID), "refunded", "from", "the", "Stripe", "dashboard"); err != nil ||
			!strings.Contains(out, "resolved\t"+note) {
			t.Fatalf("settle: %v\n%s", err, out)
		}
	}
	if out, err := runCmd(t, url, "unmatched"); err != nil || !strings.Contains(out, "no payment") {
		t.Fatalf("after settling: %v\n%s", err, out)
	}
	if out, err := runCmd(t, url, "unmatched", "all"); err != nil || !strings.Contains(out, note) {
		t.Fatalf("unmatched all: %v\n%s", err, out)
	}
	var by, resolution string
	_ = a.m.DB.QueryRow(`SELECT resolved_by, resolution FROM anomalies WHERE id = $1`, row.ID).Scan(&by, &resolution)
	if by != "operator" || resolution != note {
		t.Fatalf("recorded %q %q", by, resolution)
	}
}
