package reports

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/testdb"
	"carnet/migrations"
)

// benchNow is the bench's clock: two years of history end here.
var benchNow = time.Date(2026, 11, 15, 9, 0, 0, 0, time.UTC)

// benchSchema is the schema before the reports' migration: the data set is
// loaded there in bulk, then 00021 runs and sums it into the summary rows
// exactly as it would on a live database.
const benchSchema = 11

// The data set: one coach, 10,000 clients, 100 weekly group sessions each
// over two years (1,000,000 bookings), five 20-session packs each, so
// 1,050,000 ledger entries; a payment per pack, some refunded, some failed,
// installments, 2,000 period packs and 100 open anomalies.
var benchLoad = []string{
	`INSERT INTO coaches (name, email, currency, timezone) VALUES ('Bench', 'bench@example.com', 'EUR', 'Europe/Paris')`,
	`INSERT INTO offers (coach_id, name, kind, sessions, validity_days, price_amount, currency, upfront, installments)
		VALUES (1, '20 séances', 'sessions', 20, 365, 80000, 'EUR', true, 3)`,
	`INSERT INTO offers (coach_id, name, kind, months, price_amount, currency, upfront)
		VALUES (1, 'Un mois', 'period', 1, 30000, 'EUR', true)`,
	`INSERT INTO clients (coach_id, name, email) SELECT 1, 'Client ' || g, 'c' || g || '@example.com'
		FROM generate_series(1, 10000) g`,
	// Pack p of client c is active from week 20p (the day before), for a year.
	`INSERT INTO packs (coach_id, client_id, offer_id, kind, status, plan, installments, price_amount, currency,
		sessions_credited, sessions_remaining, validity_days, activated_at, valid_until)
		SELECT 1, c, 1, 'sessions', 'active', CASE WHEN (c + p) % 10 = 0 THEN 'installments' ELSE 'upfront' END,
			CASE WHEN (c + p) % 10 = 0 THEN 3 ELSE 1 END, 80000, 'EUR', 20, 20, 365,
			timestamptz '2024-11-14 09:00Z' + (p * 140) * interval '1 day',
			timestamptz '2024-11-14 09:00Z' + (p * 140 + 365) * interval '1 day'
		FROM generate_series(1, 10000) c, generate_series(0, 4) p ORDER BY p, c`,
	`INSERT INTO ledger_entries (coach_id, client_id, pack_id, kind, delta, created_at)
		SELECT 1, client_id, id, 'purchase', 20, activated_at FROM packs ORDER BY id`,
	// Group j (clients 10j+1..10j+10) meets weekly; the title keeps j and the week.
	`INSERT INTO sessions (coach_id, title, starts_at, duration_minutes, kind)
		SELECT 1, j || ':' || k, timestamptz '2024-11-15 07:00Z' + k * interval '7 days' + (j % 60) * interval '1 hour'
			+ (j / 60) * interval '10 minutes', 60, 'group'
		FROM generate_series(0, 99) k, generate_series(0, 999) j ORDER BY k, j`,
	`INSERT INTO bookings (coach_id, session_id, client_id, outcome, outcome_at)
		SELECT 1, s.id, c, o.outcome, s.starts_at + interval '1 hour'
		FROM sessions s, LATERAL generate_series(split_part(s.title, ':', 1)::int * 10 + 1, split_part(s.title, ':', 1)::int * 10 + 10) c,
			LATERAL (SELECT CASE WHEN h < 3 THEN 'coach_cancelled' WHEN h < 5 THEN 'cancelled' WHEN h < 10 THEN 'late_cancelled'
				WHEN h < 15 THEN 'no_show' ELSE 'attended' END AS outcome
				FROM (SELECT (c * 31 + split_part(s.title, ':', 2)::int * 17) % 100 AS h) x) o
		ORDER BY s.starts_at, c`,
	`INSERT INTO ledger_entries (coach_id, client_id, pack_id, booking_id, kind, delta, created_at)
		SELECT 1, b.client_id, pk.id, b.id, CASE b.outcome WHEN 'late_cancelled' THEN 'late_cancel' ELSE b.outcome END, -1, b.outcome_at
		FROM bookings b JOIN sessions s ON s.id = b.session_id
		JOIN packs pk ON pk.client_id = b.client_id
			AND pk.activated_at = timestamptz '2024-11-14 09:00Z' + (split_part(s.title, ':', 2)::int / 20 * 140) * interval '1 day'
		WHERE b.outcome IN ('attended', 'no_show', 'late_cancelled') ORDER BY b.outcome_at, b.id`,
	`UPDATE bookings b SET pack_id = l.pack_id FROM ledger_entries l WHERE l.booking_id = b.id`,
	`UPDATE packs p SET sessions_remaining = x.left,
		status = CASE WHEN x.left = 0 THEN 'exhausted' WHEN p.valid_until < timestamptz '2026-11-15 09:00Z' THEN 'expired' ELSE 'active' END
		FROM (SELECT pack_id, sum(delta) AS left FROM ledger_entries GROUP BY pack_id) x WHERE x.pack_id = p.id`,
	// Every 20th charge refunded, every 40th a failed debit before it succeeded.
	`INSERT INTO payments (coach_id, pack_id, kind, status, amount, currency, stripe_charge_id, stripe_object_id, occurred_at)
		SELECT 1, id, 'charge', 'succeeded', CASE WHEN plan = 'installments' THEN 26667 ELSE 80000 END, 'EUR',
			'ch_b' || id, 'ch_b' || id, activated_at FROM packs`,
	`INSERT INTO payments (coach_id, pack_id, kind, status, amount, currency, stripe_charge_id, stripe_object_id, occurred_at)
		SELECT 1, id, 'refund', 'refunded', 20000, 'EUR', 'ch_b' || id, 'refund:ch_b' || id, activated_at + interval '10 days'
		FROM packs WHERE id % 20 = 0`,
	`INSERT INTO payments (coach_id, pack_id, kind, status, amount, currency, stripe_object_id, occurred_at)
		SELECT 1, id, 'charge', 'failed', 80000, 'EUR', 'pi_fail_b' || id, activated_at - interval '1 hour'
		FROM packs WHERE id % 40 = 0`,
	`INSERT INTO installments (coach_id, pack_id, seq, due_at, amount, currency, status, paid_at)
		SELECT 1, p.id, s, p.activated_at + (s - 1) * interval '1 month', 26667, 'EUR',
			CASE WHEN p.activated_at + (s - 1) * interval '1 month' > timestamptz '2026-11-15 09:00Z' THEN 'due' WHEN p.id % 7 = 0 AND s = 3 THEN 'failed' ELSE 'paid' END,
			CASE WHEN p.activated_at + (s - 1) * interval '1 month' > timestamptz '2026-11-15 09:00Z' OR (p.id % 7 = 0 AND s = 3) THEN NULL
				ELSE p.activated_at + (s - 1) * interval '1 month' + CASE WHEN p.id % 9 = 0 THEN interval '12 days' ELSE interval '0' END END
		FROM packs p, generate_series(1, 3) s WHERE p.plan = 'installments'`,
	`INSERT INTO packs (coach_id, client_id, offer_id, kind, status, plan, price_amount, currency, months, activated_at, valid_until)
		SELECT 1, c, 2, 'period', 'active', 'manual', 30000, 'EUR', 1,
			timestamptz '2026-06-01 08:00Z' + (c % 150) * interval '1 day', timestamptz '2026-07-01 08:00Z' + (c % 150) * interval '1 day'
		FROM generate_series(1, 2000) c`,
	`INSERT INTO ledger_entries (coach_id, client_id, pack_id, kind, delta, created_at)
		SELECT 1, client_id, id, 'purchase', 0, activated_at FROM packs WHERE kind = 'period'`,
	`INSERT INTO payments (coach_id, pack_id, kind, status, amount, currency, occurred_at)
		SELECT 1, id, 'manual', 'cash:', 30000, 'EUR', activated_at FROM packs WHERE kind = 'period'`,
	`INSERT INTO anomalies (coach_id, pack_id, client_id, kind, cause_key, excess_amount, currency)
		SELECT 1, id, client_id, 'duplicate_charge', 'bench:' || id, 26667, 'EUR' FROM packs WHERE id % 500 = 0`,
}

// benchDB is the data set, built once and kept (database carnet_bench_reports)
// so later runs start at once; drop it to build it again.
func benchDB(b *testing.B) *sqlx.DB {
	b.Helper()
	ctx := context.Background()
	admin, err := db.Open(ctx, testdb.URL(b, "postgres"))
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	var exists bool
	if err := admin.Get(&exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'carnet_bench_reports')`); err != nil {
		b.Fatal(err)
	}
	if !exists {
		if _, err := admin.Exec(`CREATE DATABASE carnet_bench_reports_tmp`); err != nil {
			b.Fatal(err)
		}
	}
	name := map[bool]string{true: "carnet_bench_reports", false: "carnet_bench_reports_tmp"}[exists]
	d, err := db.Open(ctx, testdb.URL(b, name))
	if err != nil {
		b.Fatal(err)
	}
	if !exists {
		start := time.Now()
		p, err := db.Migrator(d.DB)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.UpTo(ctx, benchSchema); err != nil {
			b.Fatal(err)
		}
		for _, q := range benchLoad {
			if _, err := d.Exec(q); err != nil {
				b.Fatalf("%v\n%s", err, q)
			}
		}
		loaded := time.Since(start)
		if err := db.Migrate(ctx, d.DB); err != nil {
			b.Fatal(err)
		}
		if _, err := d.Exec(`VACUUM ANALYZE`); err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "bench data set loaded in %s, reports migration (summing it) in %s\n",
			loaded.Round(time.Second), (time.Since(start) - loaded).Round(time.Second))
		d.Close()
		if _, err := admin.Exec(`ALTER DATABASE carnet_bench_reports_tmp RENAME TO carnet_bench_reports`); err != nil {
			b.Fatal(err)
		}
		if d, err = db.Open(ctx, testdb.URL(b, "carnet_bench_reports")); err != nil {
			b.Fatal(err)
		}
	} else if err := db.Migrate(ctx, d.DB); err != nil {
		// A data set kept from before other migrations numbered below its
		// version were added: apply those out of order (this copy only).
		p, perr := goose.NewProvider(goose.DialectPostgres, d.DB, migrations.FS, goose.WithAllowOutofOrder(true))
		if perr != nil {
			b.Fatal(perr)
		}
		if _, perr := p.Up(ctx); perr != nil {
			b.Fatalf("%v; then out of order: %v", err, perr)
		}
	}
	return d
}

// BenchmarkReports asks each report through its HTTP handler, as a coach
// would, on the data set above, and prints its p50 and p99. Run it with
//
//	go test ./reports -run '^$' -bench Reports -benchtime 200x
func BenchmarkReports(b *testing.B) {
	d := benchDB(b)
	defer d.Close()
	var counts struct {
		Clients int `db:"clients"`
		Ledger  int `db:"ledger"`
	}
	if err := d.Get(&counts, `SELECT (SELECT count(*) FROM clients) AS clients, (SELECT count(*) FROM ledger_entries) AS ledger`); err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "data set: %d clients, %d ledger entries\n", counts.Clients, counts.Ledger)
	key, err := auth.IssueKey(context.Background(), d, 1, "bench")
	if err != nil {
		b.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	(&Service{DB: d, Now: func() time.Time { return benchNow }}).Routes(r.Group("/v1", auth.RequireCoach(d, func() time.Time { return benchNow })))
	// Anchors, measured in the same run: what this machine takes for a
	// round trip, and for PostgreSQL alone to add up a year of summary rows
	// (the floor of the year-long reports).
	for name, query := range map[string]string{
		"anchor: SELECT 1": `SELECT 1`,
		"anchor: a year of summary rows": `SELECT sum(earned_sessions + attended) FROM report_client_months
			WHERE coach_id = 1 AND month >= '2025-12-01' AND month < '2026-12-01'`,
	} {
		b.Run(name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for b.Loop() {
				start := time.Now()
				var n int64
				if err := d.Get(&n, query); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			report(b, lat, 0)
		})
	}
	for _, path := range []string{
		"attendance?month=2026-10",
		"attendance?month=2026-10&client_id=4242",
		"attendance?month=2026-10&format=csv",
		"revenue",
		"revenue?format=svg",
		"owed",
		"concentration",
		"reliability",
		"coach-cancellations",
		"payments-due",
	} {
		b.Run(path, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			size := 0
			for b.Loop() {
				req := httptest.NewRequest("GET", "/v1/reports/"+path, nil)
				req.Header.Set("Authorization", "Bearer "+key)
				w := httptest.NewRecorder()
				start := time.Now()
				r.ServeHTTP(w, req)
				lat = append(lat, time.Since(start))
				if w.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", path, w.Code, w.Body)
				}
				size = w.Body.Len()
			}
			report(b, lat, size)
		})
	}
}

// report prints the latencies' p50 and p99, and the answer's size.
func report(b *testing.B, lat []time.Duration, size int) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(p(0.5), "p50-ms")
	b.ReportMetric(p(0.99), "p99-ms")
	if size > 0 {
		b.ReportMetric(float64(size), "bytes")
	}
}
