package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"carnet/internal/auth"
	"carnet/internal/mailtest"
	"carnet/internal/testdb"
)

// previousRelease builds the release named in testdata/previous-release
// from the git history.
func previousRelease(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "previous-release"))
	if err != nil {
		t.Fatal(err)
	}
	var commit string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			commit = line
		}
	}
	root, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not a git checkout, so no previous release to build: %v", err)
	}
	repo := strings.TrimSpace(string(root))
	if err := exec.Command("git", "-C", repo, "cat-file", "-e", commit+"^{commit}").Run(); err != nil {
		t.Skipf("the previous release %s is not in this clone's history (a shallow clone?)", commit)
	}
	dir := t.TempDir()
	tree := exec.Command("sh", "-c", fmt.Sprintf("git -C %q archive %s | tar -x -C %q", repo, commit, dir))
	if out, err := tree.CombinedOutput(); err != nil {
		t.Fatalf("extract %s: %v\n%s", commit, err, out)
	}
	bin := filepath.Join(dir, "carnet-previous")
	build := exec.Command("go", "build", "-o", bin, "./cmd/carnet")
	build.Dir = dir
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", commit, err, out)
	}
	return bin
}

// During a rolling deploy the new release migrates the schema while the
// previous release still serves on it: the previous binary must keep
// working on this release's schema, and each binary reads what the other
// wrote. (A column added to a table the previous release reads with
// `SELECT *` broke every authenticated request of it.)
func TestPreviousReleaseOnThisSchema(t *testing.T) {
	t.Parallel()
	bin := previousRelease(t)
	d := testdb.New(t)
	url := testdb.URLOf(t, d)

	// The previous release stays ready on a schema ahead of it (c665ac8,
	// the one before, answered "migrations pending": README, Upgrading), so
	// old and new processes serve side by side during a rolling deploy.
	// Both send mail to one server.
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	old := serveBinary(t, bin, http.StatusOK, url, os.Getenv("STRIPE_API_BASE"),
		"SMTP_URL="+mail.URL("smtp"), "CARNET_OPS_ADDR=off")
	create := exec.Command(bin, "coach", "create", "Olga", "olga-deploy@example.com", "EUR", "Europe/Paris")
	create.Env = append(cleanEnv(), "DATABASE_URL="+url)
	out, err := create.CombinedOutput()
	key := regexp.MustCompile(`ck_[A-Za-z0-9_-]+`).FindString(string(out))
	if err != nil || key == "" {
		t.Fatalf("previous release's coach create: %v\n%s", err, out)
	}

	// This release changes the coach's language (what its settings page
	// does) while the previous one serves.
	a := startAppWith(t, url, func(m *Main) { m.SMTPURL = mail.URL("smtp") })
	var coachID int64
	if err := a.m.DB.Get(&coachID, `SELECT id FROM coaches WHERE email = 'olga-deploy@example.com'`); err != nil {
		t.Fatal(err)
	}
	settings := auth.CoachSettings{Locale: "en", Timezone: "Europe/Paris", Currency: "EUR"}
	if _, err := auth.UpdateSettings(context.Background(), a.m.DB, coachID, settings); err != nil {
		t.Fatal(err)
	}

	cl := old.must(key, call{path: "/v1/clients", body: map[string]any{"name": "Léa", "email": "lea-prev@example.com"}}).json(t)
	offer := old.must(key, call{path: "/v1/offers", body: map[string]any{"name": "10 séances", "kind": "sessions",
		"sessions": 10, "price_amount": 45000}}).json(t)
	pack := old.must(key, call{path: "/v1/clients/" + id(cl) + "/packs", body: map[string]any{"offer_id": offer["id"], "method": "cash"}}).json(t)
	sess := old.must(key, call{path: "/v1/sessions", body: map[string]any{"starts_at": time.Now().Add(-time.Hour),
		"client_ids": []any{cl["id"]}}}).json(t)
	old.must(key, call{path: "/v1/sessions/" + id(sess) + "/attendance", body: map[string]any{
		"outcomes": []any{map[string]any{"client_id": cl["id"], "outcome": "attended"}}}})
	for _, path := range []string{"/v1/clients", "/v1/balances", "/v1/charter", "/v1/anomalies", "/v1/notifications",
		"/v1/clients/" + id(cl) + "/ledger"} {
		if status, body := old.get(key, path); status != 200 {
			t.Errorf("previous release GET %s: %d %s", path, status, body)
		}
	}
	_, body := old.get(key, "/v1/clients/"+id(cl)+"/balance")
	if !strings.Contains(body, `"sessions_remaining":9`) {
		t.Errorf("previous release's balance after one attended session of 10: %s", body)
	}

	// This release reads what the previous one wrote, and the other way round.
	if bal := a.must(200, "GET", "/v1/clients/"+id(cl)+"/balance", key, nil); bal["sessions_remaining"] != float64(9) {
		t.Errorf("this release's balance of the previous release's pack: %v", bal)
	}
	a.must(201, "POST", "/v1/clients/"+id(cl)+"/adjustments", key, map[string]any{"pack_id": pack["id"], "delta": 1, "reason": "deploy"})
	if _, body := old.get(key, "/v1/clients/"+id(cl)+"/balance"); !strings.Contains(body, `"sessions_remaining":10`) {
		t.Errorf("previous release's balance after this release's adjustment: %s", body)
	}
	if co, err := auth.CoachByID(context.Background(), a.m.DB, coachID); err != nil || co.Locale != "en" {
		t.Errorf("this release's coach language: %+v %v", co, err)
	}

	// A sale by each release writes its message; both go out, each once,
	// whichever process's River client sends them.
	a.must(201, "POST", "/v1/clients/"+id(cl)+"/packs", key, map[string]any{"offer_id": offer["id"], "method": "cash"})
	messages := a.count(`SELECT count(*) FROM notifications`)
	for deadline := time.Now().Add(90 * time.Second); a.count(`SELECT count(*) FROM notifications WHERE status = 'sent'`) < messages; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d messages sent", a.count(`SELECT count(*) FROM notifications WHERE status = 'sent'`), messages)
		}
	}
	got, ids := mail.Messages(), map[string]bool{}
	for _, m := range got {
		ids[m.Header.Get("Message-ID")] = true
	}
	if messages < 2 || len(got) != messages || len(ids) != messages {
		t.Errorf("%d messages, %d emails with %d Message-IDs", messages, len(got), len(ids))
	}
}

// get reads path with the coach's key.
func (p *proc) get(token, path string) (int, string) {
	p.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, p.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var compact bytes.Buffer
	if json.Compact(&compact, b) == nil {
		b = compact.Bytes()
	}
	return res.StatusCode, string(b)
}
