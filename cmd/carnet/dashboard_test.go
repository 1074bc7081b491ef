package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The dashboard page reads the real API: every list it fetches answers a
// coach key with a page of data, the buttons' paths act on an anomaly, and
// a message kept for want of SMTP can be read there whole.
func TestDashboardReadsTheAPI(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("dash@example.com")

	r := a.do("GET", "/dashboard", "", nil)
	if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /dashboard: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	var lists []string
	for _, m := range regexp.MustCompile(`"(/v1/[a-z_/]+(?:\?[^"]*)?)"`).FindAllStringSubmatch(string(r.Body), -1) {
		if !strings.HasSuffix(m[1], "/") { // a prefix the page completes with an id
			lists = append(lists, m[1])
		}
	}
	if len(lists) < 3 {
		t.Fatalf("the page fetches only %v", lists)
	}

	client := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa", "email": "lea@example.com"})
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "Ten", "kind": "sessions", "sessions": 10, "price_amount": 45000})
	pack := a.must(201, "POST", "/v1/clients/"+id(client)+"/packs", key, map[string]any{"offer_id": offer["id"], "method": "cash"})
	var anomaly int64
	if err := a.m.DB.Get(&anomaly, `INSERT INTO anomalies (coach_id, pack_id, client_id, kind, cause_key, excess_amount, currency)
		VALUES ((SELECT coach_id FROM clients WHERE id = $1), $2, $1, 'duplicate_charge', 'dash:1', 15000, 'EUR') RETURNING id`,
		client["id"], pack["id"]); err != nil {
		t.Fatal(err)
	}

	for _, path := range lists {
		list := a.must(200, "GET", path, key, nil)
		if _, ok := list["data"].([]any); !ok {
			t.Errorf("GET %s: no data list: %v", path, list)
		}
		if r := a.do("GET", path, "", nil); r.Status != 401 || r.code(t) != "unauthorized" {
			t.Errorf("GET %s without a key: %d %s", path, r.Status, r.Body)
		}
	}

	open := a.must(200, "GET", "/v1/anomalies?state=open", key, nil)["data"].([]any)
	if len(open) != 1 || open[0].(map[string]any)["client_id"] != client["id"] || open[0].(map[string]any)["excess_amount"] != float64(15000) {
		t.Fatalf("open anomalies %v", open)
	}
	roster := a.must(200, "GET", "/v1/balances?limit=100", key, nil)["data"].([]any)
	if len(roster) != 1 || roster[0].(map[string]any)["client_id"] != client["id"] || roster[0].(map[string]any)["name"] != "Léa" {
		t.Fatalf("balances %v", roster)
	}
	resolve := fmt.Sprintf("/v1/anomalies/%d/resolve", anomaly)
	if got := a.must(200, "POST", resolve, key, map[string]any{"note": "paid back in cash"}); got["state"] != "resolved" {
		t.Fatalf("resolved: %v", got)
	}
	if r := a.do("POST", resolve, key, map[string]any{"note": "again"}); r.Status != 409 || r.code(t) != "conflict" {
		t.Fatalf("resolving twice: %d %s", r.Status, r.Body)
	}
	if open := a.must(200, "GET", "/v1/anomalies?state=open", key, nil)["data"].([]any); len(open) != 0 {
		t.Fatalf("still open: %v", open)
	}

	// Without SMTP_URL, the purchase message is kept, and its text is shown.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var kept map[string]any
		for _, n := range a.must(200, "GET", "/v1/notifications", key, nil)["data"].([]any) {
			if n := n.(map[string]any); n["template"] == "pack_purchased" && n["status"] == "kept" {
				kept = n
			}
		}
		if kept != nil {
			if body, _ := kept["body"].(string); !strings.Contains(body, "Ten") || kept["subject"] == "" || kept["recipient"] == "" {
				t.Fatalf("kept message %v", kept)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the purchase message was never kept")
		}
		time.Sleep(200 * time.Millisecond)
	}
}
