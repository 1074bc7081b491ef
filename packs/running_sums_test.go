package packs

import (
	"strings"
	"testing"
	"time"

	"carnet/migrations"
)

// migrationHalf runs one half (up or down) of a migration file as goose
// would, in one transaction.
func migrationHalf(t testing.TB, w *world, file string, up bool) {
	t.Helper()
	sql, err := migrations.FS.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	upSQL, downSQL, _ := strings.Cut(string(sql), "-- +goose Down")
	half := downSQL
	if up {
		half = upSQL
	}
	tx := w.s.DB.MustBegin()
	if _, err := tx.Exec(half); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// A ledger written before 00046 (by the trigger that summed the whole
// ledger) gets its running sums from the migration, and what a session
// earns is the same before and after: the price share of each session used.
func TestRunningSumsFromALedgerWrittenBefore00046(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.client("a")
	p := w.pack(c.ID, 5) // 5,000 for 5 sessions
	attend := func() {
		t.Helper()
		b := w.session(w.now.Add(-time.Duration(w.remaining(p.ID))*time.Hour), c.ID).Bookings[0]
		if _, err := w.outcome(b.ID, Attended); err != nil {
			t.Fatal(err)
		}
	}
	earned := func() int64 {
		t.Helper()
		var n int64
		if err := w.s.DB.Get(&n, `SELECT coalesce(sum(earned_sessions), 0) FROM report_client_months WHERE client_id = $1`, c.ID); err != nil {
			t.Fatal(err)
		}
		return n
	}
	attend()
	migrationHalf(t, w, "00046_ledger_running_sums.sql", false) // the schema as the previous release left it
	attend()
	if got := earned(); got != 2000 {
		t.Fatalf("earned before 00046: %d, want 2000", got)
	}
	migrationHalf(t, w, "00046_ledger_running_sums.sql", true)
	w.verify() // the running sums equal the ledger
	var sum int
	if err := w.s.DB.Get(&sum, `SELECT delta_sum FROM pack_ledger_sums WHERE pack_id = $1`, p.ID); err != nil || sum != 3 {
		t.Fatalf("running sum after 00046: %d, %v; want 3", sum, err)
	}
	attend()
	attend()
	if got := earned(); got != 4000 || w.remaining(p.ID) != 1 {
		t.Fatalf("earned after 00046: %d with %d left, want 4000 with 1", got, w.remaining(p.ID))
	}
	w.verify()
}
