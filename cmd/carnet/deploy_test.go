package main

import (
	"context"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"carnet/internal/db"
	"carnet/internal/mailtest"
	"carnet/internal/testdb"
	"carnet/migrations"
	"carnet/notify"
)

// futureRelease is what the next release's "expand" migration may do: add
// a column (with a default) to every table and a table of its own.
const futureRelease = `-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOR t IN SELECT tablename FROM pg_tables WHERE schemaname = 'public'
      AND tablename NOT LIKE 'river%' AND tablename <> 'goose_db_version' LOOP
    EXECUTE format('ALTER TABLE %I ADD COLUMN added_by_next_release text NOT NULL DEFAULT ''x''', t);
  END LOOP;
END $$;
-- +goose StatementEnd
CREATE TABLE next_release_things (id bigint PRIMARY KEY);

-- +goose Down
DROP TABLE next_release_things;
`

// During a rolling deploy the new release migrates first while this one
// still serves: this binary, on a schema one compatible release ahead, is
// ready and does its work.
func TestThisBinaryOnTheNextReleasesSchema(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	ahead := fstest.MapFS{"99999_next_release.sql": {Data: []byte(futureRelease)}}
	err := fs.WalkDir(migrations.FS, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		ahead[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, d.DB, ahead)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Up(context.Background()); err != nil {
		t.Fatalf("apply the next release's migration: %v", err)
	}

	a := startAppOn(t, testdb.URLOf(t, d))
	if r := a.do("GET", "/readyz", "", nil); r.Status != 200 {
		t.Fatalf("readyz on a schema ahead: %d %s", r.Status, r.Body)
	}
	key := a.coach("deploy@example.com")
	cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa", "email": "lea-deploy@example.com"})
	a.must(200, "PATCH", "/v1/clients/"+id(cl), key, map[string]any{"notes": "still works"})
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "10", "kind": "sessions", "sessions": 10, "price_amount": 45000})
	a.must(200, "GET", "/v1/offers/"+id(offer), key, nil)
	a.must(200, "GET", "/v1/charter", key, nil)
	pack := a.must(201, "POST", "/v1/clients/"+id(cl)+"/packs", key, map[string]any{"offer_id": offer["id"], "method": "cash"})
	sess := a.must(201, "POST", "/v1/sessions", key, map[string]any{"starts_at": a.clock().Add(-time.Hour), "client_ids": []any{cl["id"]}})
	a.must(200, "PATCH", "/v1/sessions/"+id(sess), key, map[string]any{"title": "renamed"})
	a.must(200, "POST", "/v1/sessions/"+id(sess)+"/attendance", key, map[string]any{
		"outcomes": []any{map[string]any{"client_id": cl["id"], "outcome": "attended"}}})
	a.must(201, "POST", "/v1/clients/"+id(cl)+"/adjustments", key, map[string]any{"pack_id": pack["id"], "delta": 1, "reason": "deploy"})
	if bal := a.must(200, "GET", "/v1/clients/"+id(cl)+"/balance", key, nil); bal["sessions_remaining"] != float64(10) {
		t.Fatalf("balance: %v", bal)
	}
	for _, path := range []string{"/v1/clients", "/v1/balances", "/v1/sessions?period=month", "/v1/charter/versions",
		"/v1/anomalies", "/v1/notifications", "/v1/clients/" + id(cl) + "/ledger", "/v1/sessions/" + id(sess)} {
		a.must(200, "GET", path, key, nil)
	}
	tok := a.must(201, "POST", "/v1/clients/"+id(cl)+"/links", key, nil)["token"].(string)
	for _, path := range []string{"/v1/me", "/v1/me/balance", "/v1/me/ledger", "/v1/me/bookings"} {
		a.must(200, "GET", path, tok, nil)
	}
	co := a.must(201, "POST", "/v1/me/checkout", tok, map[string]any{"offer_id": offer["id"],
		"agreement_sha256": a.accepted(tok, offer["id"], "upfront")})
	res, err := http.PostForm(a.base+strings.TrimPrefix(co["url"].(string), "http://carnet.test"), url.Values{"action": {"card"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 || a.count(`SELECT count(*) FROM packs WHERE status = 'active'`) != 2 {
		t.Fatalf("local checkout on a schema ahead: %d", res.StatusCode)
	}
	if out, err := runCmdWith(t, a.m.Config, "verify"); err != nil {
		t.Fatalf("verify on a schema ahead: %v\n%s", err, out)
	}
}

// No query reads `*` of a table into a struct: a column the next release
// adds would break this binary. (`*` of a CTE or subquery whose columns the
// query itself names is fine.)
func TestNoSelectStar(t *testing.T) {
	t.Parallel()
	tables := map[string]bool{}
	create := regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?(\w+)`)
	err := fs.WalkDir(migrations.FS, ".", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		for _, m := range create.FindAllStringSubmatch(string(b), -1) {
			tables[strings.ToLower(m[1])] = true
		}
		return err
	})
	if err != nil || len(tables) < 10 {
		t.Fatalf("tables from the migrations: %v %v", tables, err)
	}
	selectStar := regexp.MustCompile(`(?i)\bSELECT\s+(?:DISTINCT\s+)?(?:\w+\.)?\*.*?\bFROM\s+(\w+)`)
	returningStar := regexp.MustCompile(`(?i)\bRETURNING\s+\*`)
	root := filepath.Join("..", "..")
	err = filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if e.IsDir() && (e.Name() == ".data" || e.Name() == ".git" || e.Name() == "testdata") {
			return filepath.SkipDir
		}
		if e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			m := selectStar.FindStringSubmatch(line)
			if returningStar.MatchString(line) || (m != nil && tables[strings.ToLower(m[1])]) {
				t.Errorf("%s:%d reads *: %s", path, i+1, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// During a rolling deploy the previous release still writes messages without
// a River job: serve's notify.adopt gives them one and they are sent, beside
// this release's own, each once.
func TestMessagesThePreviousReleaseWroteAreSent(t *testing.T) {
	t.Parallel()
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	d := testdb.New(t)
	var coachID int64
	if err := d.Get(&coachID, `INSERT INTO coaches (name, email, currency) VALUES ('Marc', 'marc@example.com', 'EUR') RETURNING id`); err != nil {
		t.Fatal(err)
	}
	// As the previous release's Enqueue writes a message: no job.
	if _, err := d.Exec(`INSERT INTO notifications (coach_id, cause_key, template, locale, recipient, data)
		VALUES ($1, 'old-release', 'coach_sign_in', 'en', 'marc@example.com', '{"CoachName": "Marc", "Link": "http://x", "Minutes": 15}')`,
		coachID); err != nil {
		t.Fatal(err)
	}
	a := startAppWith(t, testdb.URLOf(t, d), func(m *Main) { m.SMTPURL = mail.URL("smtp"); m.MailFrom = "carnet@test.example" })
	err := db.InTx(context.Background(), a.m.DB, func(tx *sqlx.Tx) error {
		return notify.Enqueue(context.Background(), tx, notify.Message{CoachID: coachID, Cause: "this-release",
			Template: notify.CoachSignIn, Locale: "fr", To: "marc@example.com",
			Data: map[string]any{"CoachName": "Marc", "Link": "http://y", "Minutes": 15}})
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); a.count(`SELECT count(*) FROM notifications WHERE status = 'sent'`) != 2; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("sent %d of 2 messages", a.count(`SELECT count(*) FROM notifications WHERE status = 'sent'`))
		}
	}
	if got := mail.Messages(); len(got) != 2 || a.count(`SELECT count(*) FROM notifications WHERE job_id IS NULL`) != 0 {
		t.Fatalf("%d emails for 2 messages, %d without a job", len(got), a.count(`SELECT count(*) FROM notifications WHERE job_id IS NULL`))
	}
}
