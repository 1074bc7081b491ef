package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"carnet/internal/auth"
	"carnet/internal/testdb"
)

// app is the real program, started on a free port against its own database.
type app struct {
	t    testing.TB
	m    *Main
	base string
	mu   sync.Mutex
	now  time.Time
	logs *logBuffer // what the program logged, as JSON lines
}

// logBuffer collects log lines written from many goroutines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func startApp(t testing.TB) *app {
	t.Helper()
	return startAppOn(t, testdb.URLOf(t, testdb.New(t)))
}

// startAppOn starts the program against an existing database.
func startAppOn(t testing.TB, url string) *app {
	t.Helper()
	return startAppWith(t, url, nil)
}

// startAppWith starts the program against url (a fresh database when
// empty), after opt changed its settings.
func startAppWith(t testing.TB, url string, opt func(*Main)) *app {
	t.Helper()
	if url == "" {
		url = testdb.URLOf(t, testdb.New(t))
	}
	a := &app{t: t, now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC), logs: &logBuffer{}}
	cfg := Config{DatabaseURL: url, Addr: "127.0.0.1:0", StripeAPIBase: os.Getenv("STRIPE_API_BASE")}
	cfg.BaseURL = "http://carnet.test"
	a.m = &Main{Config: cfg, Now: a.clock, Log: slog.New(slog.NewJSONHandler(a.logs, nil)), ExpiryEvery: time.Second}
	if opt != nil {
		opt(a.m)
	}
	if err := a.m.Run(context.Background()); err != nil {
		t.Fatalf("start carnet: %v", err)
	}
	t.Cleanup(func() { a.m.Close() })
	a.base = "http://" + a.m.Addr
	return a
}

func (a *app) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

// coach creates a coach and returns its API key.
func (a *app) coach(email string) string {
	a.t.Helper()
	_, key, err := auth.CreateCoach(context.Background(), a.m.DB, auth.NewCoach{
		Name: "Coach " + email, Email: email, Currency: "EUR", Timezone: "Europe/Paris"})
	if err != nil {
		a.t.Fatal(err)
	}
	return key
}

type reply struct {
	Status int
	Body   []byte
	Header http.Header
}

// json decodes the reply body into a map (or whatever v is).
func (r reply) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("reply is not a JSON object: %s", r.Body)
	}
	return m
}

// code is the error code of an error reply, "" otherwise.
func (r reply) code(t testing.TB) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	if e == nil {
		return ""
	}
	return e["code"].(string)
}

// do sends a request; body may be a string (sent raw) or a value (as JSON).
func (a *app) do(method, path, token string, body any, headers ...string) reply {
	a.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		js, _ := json.Marshal(b)
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, a.base+path, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return reply{Status: res.StatusCode, Body: b, Header: res.Header}
}

// must sends a request and fails the test unless the status is want.
func (a *app) must(want int, method, path, token string, body any, headers ...string) map[string]any {
	a.t.Helper()
	r := a.do(method, path, token, body, headers...)
	if r.Status != want {
		a.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Body)
	}
	return r.json(a.t)
}

func (a *app) count(query string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.m.DB.Get(&n, query, args...); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func id(m map[string]any) string {
	return strings.TrimSuffix(strings.TrimSuffix(jsonString(m["id"]), ".0"), "\n")
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// accepted reads the agreement a client link is shown for offer and plan
// and returns its hash, as the client's page sends it with the checkout.
func (a *app) accepted(tok string, offer any, plan string) any {
	a.t.Helper()
	return a.must(200, "GET", fmt.Sprintf("/v1/me/agreement?plan=%s&offer_id=%v", plan, offer), tok, nil)["sha256"]
}

// localCheckoutPath is the path (with its signed token) of the local test
// checkout a checkout answer points at.
func localCheckoutPath(co map[string]any) string {
	u := co["url"].(string)
	return u[strings.Index(u, "/checkout/local/"):]
}
