package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"carnet/internal/testdb"
)

// An operator scrapes /metrics and pprof on the operator address; the
// public address serves neither.
func TestMetricsOnTheOperatorAddressOnly(t *testing.T) {
	t.Parallel()
	a := &app{t: t, now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	cfg := Config{DatabaseURL: testdb.URLOf(t, testdb.New(t)), Addr: "127.0.0.1:0", OpsAddr: "127.0.0.1:0",
		StripeAPIBase: os.Getenv("STRIPE_API_BASE"), BaseURL: "http://carnet.test"}
	a.m = &Main{Config: cfg, Now: a.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := a.m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.m.Close() })
	a.base = "http://" + a.m.Addr
	key := a.coach("ops@example.com")
	a.must(200, "GET", "/v1/clients", key, nil)
	a.must(200, "GET", "/v1/clients", key, nil)
	a.do("GET", "/v1/clients/999999", key, nil)
	if r := a.do("POST", "/webhooks/stripe", "", `{"id":"evt_1"}`); r.Status != 400 {
		t.Fatalf("unsigned webhook: %d", r.Status)
	}
	// A checkout asks Stripe (stripe-mock) for a customer, a product, a price and a session.
	cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa", "email": "lea-ops@example.com"})
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5", "kind": "sessions", "sessions": 5, "price_amount": 10000})
	a.must(201, "POST", "/v1/checkout", key, map[string]any{"client_id": cl["id"], "offer_id": offer["id"], "plan": "upfront"})
	if r := a.do("GET", "/metrics", "", nil); r.Status != 404 {
		t.Fatalf("public /metrics answered %d, want 404", r.Status)
	}

	get := func(path string) (int, string) {
		res, err := http.Get("http://" + a.m.OpsAddr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	status, body := get("/metrics")
	if status != 200 {
		t.Fatalf("/metrics: %d", status)
	}
	for _, want := range []string{
		`carnet_http_requests_total{method="GET",route="/v1/clients",status="200"} 2`,
		`carnet_http_requests_total{method="GET",route="/v1/clients/:id",status="404"} 1`,
		`carnet_http_request_duration_seconds_count{method="GET",route="/v1/clients"} 2`,
		`carnet_webhook_events_total{outcome="refused",type=""} 1`,
		`carnet_stripe_requests_total{endpoint="POST /v1/customers",result="200"} 1`,
		`carnet_stripe_requests_total{endpoint="POST /v1/checkout/sessions",result="200"} 1`,
		`carnet_stripe_request_duration_seconds_count{endpoint="POST /v1/customers"} 1`,
		`carnet_notifications_pending `,
		`carnet_database_scrape_errors 0`,
		`carnet_auth_key_cache_total{result="hit"}`,
		`carnet_auth_key_cache_total{result="miss"}`,
		`carnet_auth_key_cache_total{result="bypass"}`,
		`carnet_auth_key_cache_answering `,
		`go_sql_max_open_connections{db_name="carnet"}`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	// A raw path would show as "/v1/clients/999999"; a bare 999999 can be
	// any sample's value (9.99999e-05 s of GC, say).
	if strings.Contains(body, "/999999") {
		t.Error("/metrics names a raw path: series would grow with every id")
	}
	if status, _ := get("/debug/pprof/"); status != 200 {
		t.Errorf("pprof: %d", status)
	}
}
