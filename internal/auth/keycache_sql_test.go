package auth

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/internal/testdb"
)

// proc is one "process": its own pool and its own key cache with its own
// listener, on the test's database. Its clock stands still, so that no entry
// ever expires during a test: only a notification can make it forget.
type proc struct {
	d   *sqlx.DB
	k   *KeyCache
	now time.Time

	mu      sync.Mutex
	results map[string]int
}

func startProc(t *testing.T, url string, d *sqlx.DB) *proc {
	t.Helper()
	if d == nil {
		var err error
		if d, err = db.Open(context.Background(), url); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
	}
	p := &proc{d: d, now: time.Now().UTC(), results: map[string]int{}}
	p.k = NewKeyCache(d, url, p.clock, slog.New(slog.DiscardHandler))
	p.k.Observe = func(r string) { p.mu.Lock(); p.results[r]++; p.mu.Unlock() }
	p.k.Start()
	t.Cleanup(func() { p.k.Close() })
	p.waitAnswering(t)
	return p
}

// twoProcs starts two processes on one new database.
func twoProcs(t *testing.T) (*proc, *proc) {
	d := testdb.New(t)
	url := testdb.URLOf(t, d)
	return startProc(t, url, d), startProc(t, url, nil)
}

func (p *proc) lookup(key, addr string) (Coach, error) {
	return coachByKey(context.Background(), p.d, key, addr, p.clock())
}

func (p *proc) clock() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.now
}

func (p *proc) count(result string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.results[result]
}

func (p *proc) waitAnswering(t *testing.T) {
	t.Helper()
	waitFor(t, "the cache's listener proves it hears the database", p.k.Answering)
}

// waitHeard waits until the cache has heard every notification committed
// so far: a heartbeat sent from now on comes back after them.
func (p *proc) waitHeard(t *testing.T) {
	t.Helper()
	p.k.mu.Lock()
	sent := p.k.seq
	p.k.mu.Unlock()
	p.k.beatNow()
	waitFor(t, "a heartbeat comes back", func() bool {
		p.k.mu.Lock()
		defer p.k.mu.Unlock()
		return p.k.heard > sent
	})
}

// waitFor polls cond until it holds, failing the test past a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

// mustHit checks that key from addr is accepted, and answered from memory
// the second time.
func (p *proc) mustHit(t *testing.T, key, addr string) Coach {
	t.Helper()
	if _, err := p.lookup(key, addr); err != nil {
		t.Fatalf("a valid key refused: %v", err)
	}
	hits := p.count("hit")
	c, err := p.lookup(key, addr)
	if err != nil || p.count("hit") != hits+1 {
		t.Fatalf("a key just checked is not answered from memory: %v (hits %d → %d)", err, hits, p.count("hit"))
	}
	return c
}

func refused(err error) bool { return errs.CodeOf(err) == errs.Unauthorized }

func (p *proc) waitRefused(t *testing.T, key, addr string) {
	t.Helper()
	waitFor(t, "the key is refused", func() bool { _, err := p.lookup(key, addr); return refused(err) })
}

func newCoach(t *testing.T, d *sqlx.DB, email string) (Coach, string, int64) {
	t.Helper()
	c, key, err := CreateCoach(context.Background(), d, NewCoach{Name: "K", Email: email, Currency: "EUR", Timezone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	var keyID int64
	if err := d.Get(&keyID, `SELECT id FROM api_keys WHERE key_hash = $1`, hashKey(key)); err != nil {
		t.Fatal(err)
	}
	return c, key, keyID
}

const addr = "192.0.2.10"

// A key cached by two processes and revoked through one: that one refuses
// it at once, the other as soon as it hears of it (its clock stands still:
// without the notification it would accept the key forever).
func TestKeyCacheRevokedThroughOneProcess(t *testing.T) {
	t.Parallel()
	p1, p2 := twoProcs(t)
	coach, key, keyID := newCoach(t, p1.d, "revoke@example.com")
	p1.mustHit(t, key, addr)
	p2.mustHit(t, key, addr)
	if err := RevokeKey(context.Background(), p1.d, coach.ID, keyID, p1.now); err != nil {
		t.Fatal(err)
	}
	if _, err := p1.lookup(key, addr); !refused(err) {
		t.Fatalf("the process that revoked the key still accepts it: %v", err)
	}
	p2.waitRefused(t, key, addr)
	if _, err := p2.lookup(key, addr); !refused(err) {
		t.Fatalf("a revoked key accepted again: %v", err)
	}
}

// Keys revoked or deleted by plain SQL, as an operator or the previous
// release would: both processes refuse them.
func TestKeyCacheRevokedBySQL(t *testing.T) {
	t.Parallel()
	p1, p2 := twoProcs(t)
	coach, key, keyID := newCoach(t, p1.d, "sql@example.com")
	other, err := IssueKey(context.Background(), p1.d, coach.ID, "second")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*proc{p1, p2} {
		p.mustHit(t, key, addr)
		p.mustHit(t, other, addr)
	}
	if _, err := p1.d.Exec(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, keyID); err != nil {
		t.Fatal(err)
	}
	if _, err := p1.d.Exec(`DELETE FROM api_keys WHERE key_hash = $1`, hashKey(other)); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*proc{p1, p2} {
		p.waitRefused(t, key, addr)
		p.waitRefused(t, other, addr)
	}
}

// A coach's time zone and language changed by SQL: both processes show the
// new ones.
func TestKeyCacheCoachChangedBySQL(t *testing.T) {
	t.Parallel()
	p1, p2 := twoProcs(t)
	coach, key, _ := newCoach(t, p1.d, "tz@example.com")
	for _, p := range []*proc{p1, p2} {
		if c := p.mustHit(t, key, addr); c.Timezone != "Europe/Paris" || c.Locale != "fr" {
			t.Fatalf("cached coach: %+v", c)
		}
	}
	if _, err := p2.d.Exec(`UPDATE coaches SET timezone = 'America/Montreal' WHERE id = $1`, coach.ID); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*proc{p1, p2} {
		waitFor(t, "the new time zone shows", func() bool { c, err := p.lookup(key, addr); return err == nil && c.Timezone == "America/Montreal" })
		p.mustHit(t, key, addr)
	}
	if _, err := p2.d.Exec(`INSERT INTO coach_preferences (coach_id, locale) VALUES ($1, 'es')`, coach.ID); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*proc{p1, p2} {
		waitFor(t, "the new language shows", func() bool { c, err := p.lookup(key, addr); return err == nil && c.Locale == "es" })
	}
}

// An address blocked through one process: the other refuses a valid key
// from it that it had cached, and still accepts the key from elsewhere.
func TestKeyCacheBlockedThroughOneProcess(t *testing.T) {
	t.Parallel()
	p1, p2 := twoProcs(t)
	_, key, _ := newCoach(t, p1.d, "block@example.com")
	const elsewhere = "198.51.100.3"
	for _, p := range []*proc{p1, p2} {
		p.mustHit(t, key, addr)
		p.mustHit(t, key, elsewhere)
	}
	ctx := context.Background()
	for i := range MaxFailures + 1 {
		err := CountFailure(ctx, p1.d, addr, p1.now, "ck_wrong", errs.New(errs.Unauthorized, "no"))
		if want := i == MaxFailures; (errs.CodeOf(err) == errs.RateLimited) != want {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if _, err := p1.lookup(key, addr); !refused(err) {
		t.Fatalf("the process that blocked the address accepts a key from it: %v", err)
	}
	p2.waitRefused(t, key, addr)
	p1.waitHeard(t) // its own notification, which flushes it again
	for _, p := range []*proc{p1, p2} {
		p.mustHit(t, key, elsewhere)
	}
}

// The triggers stay quiet on what needs no flush (a failure that does not
// block, an update that changes nothing a Coach carries, a new key), and
// speak once on each change that does. Notifications arrive in commit
// order, so a marker sent last tells that nothing else came before it.
func TestAuthNotifyOnlyOnChanges(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	coach, _, _ := newCoach(t, d, "quiet@example.com")
	l := pq.NewListener(testdb.URLOf(t, d), 10*time.Millisecond, time.Second, nil)
	t.Cleanup(func() { l.Close() })
	if err := l.Listen(authChannel); err != nil {
		t.Fatal(err)
	}
	heard := func(stmt string) []string {
		t.Helper()
		if _, err := d.Exec(strings.ReplaceAll(stmt, "COACH", fmt.Sprint(coach.ID))); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		if _, err := d.Exec(`SELECT pg_notify('carnet_auth', 'marker')`); err != nil {
			t.Fatal(err)
		}
		var got []string
		for n := range l.Notify {
			if n != nil && n.Extra == "marker" {
				return got
			}
			got = append(got, fmt.Sprint(n))
		}
		t.Fatal("the listener closed")
		return nil
	}
	if err := CountFailure(context.Background(), d, addr, time.Now(), "ck_wrong", errs.New(errs.Unauthorized, "no")); err == nil {
		t.Fatal("a failure not counted")
	}
	for _, s := range []string{
		`SELECT 1`, // the failure above
		`UPDATE coaches SET name = name, timezone = timezone WHERE id = COACH`,
		`INSERT INTO api_keys (coach_id, key_hash) VALUES (COACH, 'new')`,
		`UPDATE api_keys SET label = 'renamed' WHERE coach_id = COACH`,
		`UPDATE api_keys SET revoked_at = NULL WHERE coach_id = COACH AND revoked_at IS NULL`,
		`INSERT INTO auth_failures (addr, window_start) VALUES ('192.0.2.99', now())`,
		`UPDATE auth_failures SET failures = failures + 1, blocked_until = NULL WHERE addr = '192.0.2.99'`,
	} {
		if got := heard(s); len(got) != 0 {
			t.Fatalf("%s: notified %v, and nothing that matters changed", s, got)
		}
	}
	for _, s := range []string{
		`UPDATE coaches SET currency = 'CAD' WHERE id = COACH`,
		`INSERT INTO coach_preferences (coach_id) VALUES (COACH)`,
		`UPDATE coach_preferences SET country = 'CA' WHERE coach_id = COACH`,
		`UPDATE api_keys SET revoked_at = now() WHERE coach_id = COACH AND key_hash = 'new'`,
		`DELETE FROM api_keys WHERE coach_id = COACH AND key_hash = 'new'`,
		`UPDATE auth_failures SET blocked_until = now() + interval '1 minute' WHERE addr = '192.0.2.99'`,
		`INSERT INTO auth_failures (addr, window_start, blocked_until) VALUES ('192.0.2.98', now(), now() + interval '1 minute')`,
	} {
		if got := heard(s); len(got) != 1 {
			t.Fatalf("%s: notified %v, want once", s, got)
		}
	}
}

// The listener's connection killed: while it is away the cache does not
// answer (every key is checked in the database), so a key revoked then —
// whose notification nobody hears — is refused; once it is back, the cache
// answers again, after forgetting what it held.
func TestKeyCacheListenerKilled(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	url := testdb.URLOf(t, d)
	p := startProc(t, url, d)
	coach, key, keyID := newCoach(t, d, "kill@example.com")
	other, err := IssueKey(context.Background(), d, coach.ID, "second")
	if err != nil {
		t.Fatal(err)
	}
	p.mustHit(t, key, addr)
	p.mustHit(t, other, addr)

	// Keep the listener away: no new connection to this database until the
	// test allows it again (the pool keeps the few it has open), then end
	// the listener's.
	ctx := context.Background()
	var warm []*sql.Conn
	for range 4 {
		c, err := d.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		warm = append(warm, c)
	}
	for _, c := range warm {
		c.Close()
	}
	var name string
	if err := d.Get(&name, `SELECT current_database()`); err != nil {
		t.Fatal(err)
	}
	admin, err := db.Open(ctx, testdb.URL(t, "postgres"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	setConnections := func(allow bool) {
		if _, err := admin.Exec(fmt.Sprintf(`ALTER DATABASE %s WITH ALLOW_CONNECTIONS %v`, pq.QuoteIdentifier(name), allow)); err != nil {
			t.Fatal(err)
		}
	}
	setConnections(false)
	t.Cleanup(func() { setConnections(true) })
	var pid int
	if err := d.Get(&pid, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%' || $1 || '%'
		AND pid <> pg_backend_pid()`, p.k.heartbeats); err != nil {
		t.Fatalf("the listener's backend: %v", err)
	}
	p.k.mu.Lock()
	lost := p.k.disconnects
	p.k.mu.Unlock()
	if _, err := d.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the listener's backend is gone", func() bool {
		var n int
		return d.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE pid = $1`, pid) == nil && n == 0
	})
	waitFor(t, "the cache sees its listener gone", func() bool {
		p.k.mu.Lock()
		defer p.k.mu.Unlock()
		return p.k.disconnects > lost
	})

	// Nobody listens: this revocation's notification is lost.
	if _, err := d.Exec(`UPDATE api_keys SET revoked_at = now() WHERE id = $1`, keyID); err != nil {
		t.Fatal(err)
	}
	bypassed := p.count("bypass")
	if _, err := p.lookup(key, addr); !refused(err) {
		t.Fatalf("a key revoked while the listener was away is accepted: %v", err)
	}
	for range 2 {
		if _, err := p.lookup(other, addr); err != nil {
			t.Fatalf("a valid key refused while the listener is away: %v", err)
		}
	}
	if p.count("bypass") != bypassed+3 || p.k.Answering() {
		t.Fatalf("the cache answered while its listener was away: %v", p.results)
	}

	setConnections(true)
	p.waitAnswering(t)
	if _, err := p.lookup(key, addr); !refused(err) {
		t.Fatalf("a key revoked while the listener was away is accepted once it is back: %v", err)
	}
	p.mustHit(t, other, addr)
	if _, err := d.Exec(`DELETE FROM api_keys WHERE key_hash = $1`, hashKey(other)); err != nil {
		t.Fatal(err)
	}
	p.waitRefused(t, other, addr)
}

// A request pool with no connection free does not turn the cache off: its
// heartbeats have a connection of their own, so the proof stays fresh.
func TestKeyCacheAnswersWhileThePoolIsBusy(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	p := startProc(t, testdb.URLOf(t, d), d)
	ctx := context.Background()
	d.SetMaxOpenConns(2)
	for range 2 {
		c, err := d.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() }) // before the cache closes
	}
	// Past what the last heartbeat can prove: only one sent from now on can.
	p.mu.Lock()
	p.now = p.now.Add(proofMaxAge + time.Second)
	p.mu.Unlock()
	if p.k.Answering() {
		t.Fatal("the cache answers on a proof older than proofMaxAge")
	}
	p.waitAnswering(t)
}
