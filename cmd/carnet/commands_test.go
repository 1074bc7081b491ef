package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"carnet/internal/db"
	"carnet/internal/testdb"
)

func runCmd(t *testing.T, url string, args ...string) (string, error) {
	t.Helper()
	return runCmdWith(t, Config{DatabaseURL: url, Addr: "127.0.0.1:8080", BaseURL: "http://127.0.0.1:8080",
		StripeAPIBase: os.Getenv("STRIPE_API_BASE")}, args...)
}

func runCmdWith(t *testing.T, cfg Config, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), cfg, args, &out, io.Discard)
	return out.String(), err
}

func TestDemoIsIdempotentAndItsKeyWorks(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	url := testdb.URLOf(t, d)
	var keys, checkouts []string
	for range 2 {
		out, err := runCmd(t, url, "demo")
		if err != nil {
			t.Fatalf("demo: %v\n%s", err, out)
		}
		if co := regexp.MustCompile(`waits at http://127\.0\.0\.1:8080(\S+)`).FindStringSubmatch(out); co != nil {
			checkouts = append(checkouts, co[1])
		}
		m := regexp.MustCompile(`API key:\s+(ck_\S+)`).FindStringSubmatch(out)
		if m == nil || !strings.Contains(out, "curl -s -H 'Authorization: Bearer "+m[1]+"' http://127.0.0.1:8080/v1/clients") {
			t.Fatalf("demo output lacks a key and a curl line:\n%s", out)
		}
		keys = append(keys, m[1])
	}
	var coaches, offers, clients int
	_ = d.Get(&coaches, `SELECT count(*) FROM coaches`)
	_ = d.Get(&offers, `SELECT count(*) FROM offers`)
	_ = d.Get(&clients, `SELECT count(*) FROM clients`)
	if coaches != 1 || offers != 4 || clients != 3 {
		t.Fatalf("after two demos: %d coaches, %d offers, %d clients", coaches, offers, clients)
	}
	// Both printed keys work: the curl line answers 200.
	a := startAppOn(t, url)
	for _, k := range keys {
		if n := len(a.must(200, "GET", "/v1/clients", k, nil)["data"].([]any)); n != 3 {
			t.Fatalf("demo key sees %d clients", n)
		}
	}
	// The checkout link printed each time opens (the second demo finds the
	// first's pack still waiting).
	if len(checkouts) != 2 {
		t.Fatalf("checkout links printed: %q", checkouts)
	}
	for _, path := range checkouts {
		if r := a.do("GET", path, "", nil); r.Status != 200 {
			t.Fatalf("the demo's checkout link %s: %d", path, r.Status)
		}
	}
}

func TestMigrateDownAndUp(t *testing.T) {
	t.Parallel()
	url := testdb.URLOf(t, testdb.New(t))
	if out, err := runCmd(t, url, "migrate", "status"); err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("status: %v\n%s", err, out)
	}
	if out, err := runCmd(t, url, "migrate", "down"); err != nil || !strings.Contains(out, "rolled back") {
		t.Fatalf("down: %v\n%s", err, out)
	}
	if out, err := runCmd(t, url, "migrate", "status"); err != nil || !strings.Contains(out, "pending") {
		t.Fatalf("status after down: %v\n%s", err, out)
	}
	if out, err := runCmd(t, url, "migrate"); err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("up: %v\n%s", err, out)
	}
	if _, err := runCmd(t, url, "migrate", "sideways"); err == nil {
		t.Fatal("unknown migrate verb accepted")
	}
}

// migrate up builds the whole schema, River's tables with ours, so a
// database migrated ahead of a deploy needs nothing more from serve.
func TestMigrateUpBuildsRiversTablesToo(t *testing.T) {
	t.Parallel()
	url := testdb.Empty(t)
	out, err := runCmd(t, url, "migrate", "up")
	if err != nil || !strings.Contains(out, "applied 00001_foundation.sql") || !strings.Contains(out, "applied river 001") {
		t.Fatalf("up on an empty database: %v\n%s", err, out)
	}
	d, err := db.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var jobs int
	if err := d.Get(&jobs, `SELECT count(*) FROM river_job`); err != nil {
		t.Fatalf("River's job table after migrate up: %v", err)
	}
	if out, err := runCmd(t, url, "migrate", "up"); err != nil || strings.TrimSpace(out) != "schema is current" {
		t.Fatalf("up again: %v\n%s", err, out)
	}
}

func TestCoachCreate(t *testing.T) {
	t.Parallel()
	url := testdb.URLOf(t, testdb.New(t))
	out, err := runCmd(t, url, "coach", "create", "Ana", "ana@example.com", "EUR", "Europe/Madrid")
	if err != nil || !strings.Contains(out, "API key (shown once, keep it): ck_") {
		t.Fatalf("coach create: %v\n%s", err, out)
	}
	if _, err := runCmd(t, url, "coach", "create", "Ana", "ana@example.com"); err == nil {
		t.Fatal("a second coach with the same email was created")
	}
	if _, err := runCmd(t, url, "coach", "create", "Bo", "bo@example.com", "EURO"); err == nil {
		t.Fatal("bad currency accepted")
	}
	if _, err := runCmd(t, url, "nonsense"); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// The README's `carnet stripe send` lines run as written on the demo data:
// the demo's checkout is paid by card, then its next debit fails.
func TestReadmeStripeSendExamples(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	url := testdb.URLOf(t, d)
	if out, err := runCmd(t, url, "demo"); err != nil || !strings.Contains(out, "checkout: pack 2,") {
		t.Fatalf("demo: %v\n%s", err, out)
	}
	a := startAppOn(t, url)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(readme), "\n") {
		if rest, ok := strings.CutPrefix(l, ".data/bin/carnet stripe send "); ok {
			lines = append(lines, strings.TrimSpace(strings.Split(rest, "#")[0]))
		}
	}
	if len(lines) != 2 {
		t.Fatalf("README has %d stripe send lines: %q", len(lines), lines)
	}
	cfg := a.m.Config
	cfg.BaseURL = a.base
	for _, l := range lines {
		args := append([]string{"stripe", "send"}, strings.Fields(l)...)
		for i := range args { // the README's address is this test's server
			args[i] = strings.Replace(args[i], "http://127.0.0.1:8080", a.base, 1)
		}
		if out, err := runCmdWith(t, cfg, args...); err != nil || !strings.HasPrefix(out, "200 ") {
			t.Fatalf("%s: %v\n%s", l, err, out)
		}
	}
	var got struct {
		Status string `db:"status"`
		Failed int    `db:"failed"`
	}
	_ = d.Get(&got, `SELECT status, (SELECT count(*) FROM installments WHERE pack_id = 2 AND status = 'failed') AS failed
		FROM packs WHERE id = 2`)
	if got.Status != "overdue" || got.Failed != 1 {
		t.Fatalf("demo pack 2 after the README's lines: %+v", got)
	}
}
