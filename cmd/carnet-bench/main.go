// Command carnet-bench measures Carnet under load beside PostgreSQL's own
// cost for the same work, in one run on one machine, and prints the
// figures docs/BENCHMARKS.md records. `make bench` runs it.
//
// It creates a database of its own, starts the real binary on it, and runs,
// one after the other: attendance marked over HTTP by many workers, then
// pgbench doing a minimal deduction (a conditional UPDATE ... RETURNING and
// a ledger INSERT in one transaction) on the same tables; signed webhook
// events fully applied by several senders; the balances overview of 10,000
// clients with 1,000,000 ledger entries. It reports throughput, p50/p95/p99
// and the server's resident memory.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	"github.com/stripe/stripe-go/v76/webhook"

	"carnet/internal/auth"
	"carnet/localstripe"
)

type config struct {
	carnet, pgbench          string
	workers, senders         int
	clients, sessionsPerPack int
	checkouts                int
	readClients, entries     int
	pgbenchSeconds           int
	profile                  string
	withoutReports           bool
}

func main() {
	var c config
	flag.StringVar(&c.carnet, "carnet", ".data/bin/carnet", "the carnet binary to measure")
	flag.StringVar(&c.pgbench, "pgbench", "", "pgbench (default: found beside pg_config or on PATH)")
	flag.IntVar(&c.workers, "workers", 32, "concurrent workers marking attendance")
	flag.IntVar(&c.clients, "clients", 200, "clients whose bookings are marked (each with one pack)")
	flag.IntVar(&c.sessionsPerPack, "sessions", 20, "sessions per pack, so bookings = clients x sessions")
	flag.IntVar(&c.senders, "senders", 8, "concurrent webhook senders")
	flag.IntVar(&c.checkouts, "checkouts", 1000, "purchases whose events are delivered")
	flag.IntVar(&c.readClients, "read-clients", 10000, "clients in the read data set")
	flag.IntVar(&c.entries, "entries", 1000000, "ledger entries in the read data set")
	flag.IntVar(&c.pgbenchSeconds, "pgbench-seconds", 10, "how long each pgbench run lasts")
	flag.StringVar(&c.profile, "profile", "", "directory for the server's CPU profile of each load (none when empty)")
	flag.BoolVar(&c.withoutReports, "without-report-triggers", false,
		"also run both pgbench loads with the reports' triggers switched off, to show what keeping the reports costs")
	flag.Parse()
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "carnet-bench:", err)
		os.Exit(1)
	}
}

type result struct {
	name    string
	n       int
	elapsed time.Duration
	lat     []time.Duration
	cpu     cpuUse
}

func (r result) row() string {
	slices.Sort(r.lat)
	q := func(p float64) string {
		if len(r.lat) == 0 {
			return "-"
		}
		return fmt.Sprintf("%.1f ms", float64(r.lat[min(len(r.lat)-1, int(p*float64(len(r.lat))))].Microseconds())/1000)
	}
	return fmt.Sprintf("| %s | %d | %.0f/s | %s | %s | %s |", r.name, r.n, r.rate(), q(.50), q(.95), q(.99))
}

// rate is the load's operations a second.
func (r result) rate() float64 { return float64(r.n) / r.elapsed.Seconds() }

func run(ctx context.Context, c config) error {
	admin := os.Getenv("DATABASE_URL")
	if admin == "" {
		return fmt.Errorf("DATABASE_URL is not set (make bench sets it)")
	}
	dbURL, err := freshDatabase(ctx, admin, "carnet_bench")
	if err != nil {
		return err
	}
	srv, err := startServer(c.carnet, dbURL)
	if err != nil {
		return err
	}
	defer srv.stop()
	d, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	_, key, err := auth.CreateCoach(ctx, d, auth.NewCoach{Name: "Bench", Email: "bench@carnet.test", Currency: "EUR", Timezone: "Europe/Paris"})
	if err != nil {
		return err
	}
	api := &client{base: srv.base, key: key}
	var results []result
	var probes []probed
	pr, err := newProbe(ctx, srv, d, c.profile)
	if err != nil {
		return err
	}
	meter := newCPUMeter(ctx, d, srv.cmd.Process.Pid, pr.pid)
	measure := func(name string, fn func() result) result {
		r, p := pr.during(name, func() result { return meter.during(fn) })
		results, probes = append(results, r), append(probes, p)
		return r
	}

	fmt.Fprintln(os.Stderr, "seeding attendance:", c.clients, "clients,", c.clients*c.sessionsPerPack, "bookings")
	bookings, packIDs, err := seedAttendance(api, c)
	if err != nil {
		return err
	}
	att := measure("attendance over HTTP", func() result {
		return load("attendance over HTTP", c.workers, len(bookings), func(i int) error {
			return api.post(fmt.Sprintf("/v1/bookings/%d/outcome", bookings[i]), map[string]any{"outcome": "attended"}, nil)
		})
	})
	rssAttendance := srv.rss()

	pg, err := pgbenchMinimal(ctx, c, d, dbURL, packIDs, meter)
	if err != nil {
		return err
	}
	results = append(results, pg)
	same, err := pgbenchSameSQL(ctx, c, d, dbURL, packIDs, meter)
	if err != nil {
		return err
	}
	results = append(results, same)
	if c.withoutReports {
		more, err := pgbenchWithoutReports(ctx, c, d, dbURL, packIDs, meter)
		if err != nil {
			return err
		}
		results = append(results, more...)
	}

	fmt.Fprintln(os.Stderr, "seeding", c.checkouts, "checkouts")
	payloads, err := seedCheckouts(ctx, api, d, c.checkouts)
	if err != nil {
		return err
	}
	secret, err := webhookSecret(ctx, d)
	if err != nil {
		return err
	}
	hooks := fmt.Sprintf("webhook events applied, %d senders", c.senders)
	measure(hooks, func() result {
		return load(hooks, c.senders, len(payloads), func(i int) error {
			signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payloads[i], Secret: secret, Timestamp: time.Now()})
			req, _ := http.NewRequest("POST", srv.base+"/webhooks/stripe", bytes.NewReader(signed.Payload))
			req.Header.Set("Stripe-Signature", signed.Header)
			return do(req, nil)
		})
	})
	rssWebhooks := srv.rss()

	fmt.Fprintln(os.Stderr, "seeding the read set:", c.readClients, "clients,", c.entries, "ledger entries")
	readKey, err := seedReadSet(ctx, d, c)
	if err != nil {
		return err
	}
	reader := &client{base: srv.base, key: readKey}
	last, pages, err := lastCursor(reader)
	if err != nil {
		return err
	}
	// 2,000 a read: its p99 is then the 20th slowest, not the 4th of 400.
	const reads = 2000
	read := func(name, path string) {
		measure(name, func() result {
			return load(name, 8, reads, func(int) error { return reader.get(path, nil) })
		})
	}
	read("balances overview, first page", "/v1/balances?limit=50")
	read(fmt.Sprintf("balances overview, last page (%d)", pages), "/v1/balances?limit=50&cursor="+url.QueryEscape(last))
	var someClient int64
	_ = d.GetContext(ctx, &someClient, `SELECT min(id) FROM clients WHERE coach_id = (SELECT coach_id FROM api_keys ORDER BY id DESC LIMIT 1)`)
	read("one client's balance", fmt.Sprintf("/v1/clients/%d/balance", someClient))

	fmt.Printf("\n%s, %d cores, %s\n\n", time.Now().UTC().Format("2006-01-02"), numCPU(), pgVersion(ctx, d))
	fmt.Println("| measure | operations | throughput | p50 | p95 | p99 |")
	fmt.Println("| --- | --- | --- | --- | --- | --- |")
	for _, r := range results {
		fmt.Println(r.row())
	}
	fmt.Printf("\nattendance over HTTP / pgbench minimal deduction: %.2f\n", att.rate()/pg.rate())
	fmt.Printf("attendance over HTTP / pgbench, the same SQL: %.2f\n", att.rate()/same.rate())
	// What Carnet's own statements allow, before any HTTP or Go on the same
	// cores: the attendance ratio can be no higher.
	fmt.Printf("pgbench, the same SQL / pgbench minimal deduction: %.2f\n", same.rate()/pg.rate())
	fmt.Printf("server resident memory: after attendance %s, after webhooks %s, peak %s\n",
		rssAttendance, rssWebhooks, srv.peak())
	fmt.Printf("\nWhere the time went (the server's statements; PostgreSQL's backends sampled every 10 ms):\n\n%s\n", probeHeader)
	for _, p := range probes {
		fmt.Println(p.row())
	}
	fmt.Printf("\nCPU per operation, in ms (read from /proc before and after each load; %d cores):\n\n%s\n", numCPU(), cpuHeader)
	for _, r := range results {
		if row := r.cpu.row(r.name); row != "" {
			fmt.Println(row)
		}
	}
	fmt.Printf("\nCPU of the minimal deduction in PostgreSQL / of an attendance over HTTP in Carnet + PostgreSQL: %.2f\n",
		pg.cpu.perOp(pg.cpu.postgres)/att.cpu.perOp(att.cpu.carnet+att.cpu.postgres))
	return nil
}

// load runs n operations on workers goroutines and times each.
func load(name string, workers, n int, op func(i int) error) result {
	fmt.Fprintln(os.Stderr, "running:", name)
	lat := make([]time.Duration, n)
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t := time.Now()
				err := op(i)
				lat[i] = time.Since(t)
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		fmt.Fprintln(os.Stderr, "  an operation failed:", firstErr)
	}
	return result{name: name, n: n, elapsed: time.Since(start), lat: lat}
}

// ---------------------------------------------------------------- the server

type server struct {
	cmd       *exec.Cmd
	base, ops string // the public and the operator address
}

func startServer(bin, dbURL string) (*server, error) {
	addr, ops := freeAddr(), freeAddr()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+dbURL, "CARNET_ADDR="+addr, "CARNET_OPS_ADDR="+ops,
		"CARNET_LOG_LEVEL=error", "CARNET_BASE_URL=http://"+addr)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	s := &server{cmd: cmd, base: "http://" + addr, ops: "http://" + ops}
	for range 300 {
		if res, err := http.Get(s.base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("%s did not become ready", bin)
}

// freeAddr is a loopback address nothing listens on now.
func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "127.0.0.1:0"
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(25 * time.Second):
		_ = s.cmd.Process.Kill()
	}
}

func (s *server) status(field string) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return "?"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return fmt.Sprintf("%.1f MiB", float64(kb)/1024)
		}
	}
	return "?"
}

func (s *server) rss() string  { return s.status("VmRSS") }
func (s *server) peak() string { return s.status("VmHWM") }

// ---------------------------------------------------------------- HTTP

type client struct{ base, key string }

func (c *client) post(path string, body, out any) error {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.base+path, bytes.NewReader(b))
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	return do(req, out)
}

func (c *client) get(path string, out any) error {
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.key)
	return do(req, out)
}

var httpClient = &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

func do(req *http.Request, out any) error {
	res, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", req.Method, req.URL.Path, res.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// ---------------------------------------------------------------- data

// seedAttendance makes clients with one pack each and group sessions of ten
// in the past, and returns every booking and the packs, through the API.
func seedAttendance(api *client, c config) (bookings, packs []int64, err error) {
	var offer struct {
		ID int64 `json:"id"`
	}
	if err := api.post("/v1/offers", map[string]any{"name": "Bench pack", "kind": "sessions", "sessions": c.sessionsPerPack,
		"validity_days": 365, "price_amount": 40000, "upfront": true}, &offer); err != nil {
		return nil, nil, err
	}
	var clients []int64
	for i := range c.clients {
		var cl struct {
			ID int64 `json:"id"`
		}
		if err := api.post("/v1/clients", map[string]any{"name": fmt.Sprintf("Client %d", i), "email": fmt.Sprintf("c%d@bench.test", i)}, &cl); err != nil {
			return nil, nil, err
		}
		var p struct {
			ID int64 `json:"id"`
		}
		if err := api.post(fmt.Sprintf("/v1/clients/%d/packs", cl.ID), map[string]any{"offer_id": offer.ID, "method": "cash"}, &p); err != nil {
			return nil, nil, err
		}
		clients, packs = append(clients, cl.ID), append(packs, p.ID)
	}
	start := time.Now().Add(-24 * time.Hour).Truncate(time.Hour)
	for s := range c.sessionsPerPack {
		for g := 0; g < len(clients); g += 10 {
			var sess struct {
				Bookings []struct {
					ID int64 `json:"id"`
				} `json:"bookings"`
			}
			if err := api.post("/v1/sessions", map[string]any{"starts_at": start.Add(-time.Duration(s) * time.Hour),
				"duration_minutes": 45, "kind": "group", "client_ids": clients[g:min(g+10, len(clients))]}, &sess); err != nil {
				return nil, nil, err
			}
			for _, b := range sess.Bookings {
				bookings = append(bookings, b.ID)
			}
		}
	}
	rand.Shuffle(len(bookings), func(i, j int) { bookings[i], bookings[j] = bookings[j], bookings[i] })
	return bookings, packs, nil
}

// pgbenchMinimal runs the least a deduction can cost in PostgreSQL, on the
// same packs and ledger tables, with as many clients as there were workers.
func pgbenchMinimal(ctx context.Context, c config, d *sqlx.DB, dbURL string, packs []int64, meter cpuMeter) (result, error) {
	// Enough sessions that no deduction is refused during the run.
	if _, err := d.ExecContext(ctx, `UPDATE packs SET sessions_credited = 1000000, sessions_remaining = 1000000 WHERE id = ANY($1)`,
		packIDs(packs)); err != nil {
		return result{}, err
	}
	script := fmt.Sprintf(`\set i random(0, %d)
BEGIN;
UPDATE packs SET sessions_remaining = sessions_remaining - 1
  WHERE id = (ARRAY[%s])[:i + 1] AND sessions_remaining >= 1 RETURNING coach_id, client_id, id AS pack_id \gset
INSERT INTO ledger_entries (coach_id, client_id, pack_id, kind, delta, reason) VALUES (:coach_id, :client_id, :pack_id, 'adjustment', -1, 'bench');
COMMIT;
`, len(packs)-1, joinIDs(packs))
	return runPgbench(ctx, c, dbURL, "pgbench minimal deduction (anchor)", script, meter)
}

// sameSQL is what Carnet sends PostgreSQL to mark one attendance
// (packs.RecordOutcome: the booking, its packs and the charters in one
// statement, then the deduction, its ledger entry and the booking's outcome
// in one statement), copied from packs/bookings_sql.go and
// packs/ledger_sql.go: keep it in step when they change. Each transaction
// marks a booking never marked before, as Carnet's do, so the same triggers
// run (a first outcome's reports, the one charge per booking): each pgbench
// client takes every clients-th booking of a fresh run of them (n counts its
// transactions; pgbench keeps a client's variables between them, so the
// read's columns are kept with a prefix, r_client_id not pgbench's
// client_id). The one difference: the pack that pays comes out as a
// column of its own (pgbench reads no JSON).
const sameSQL = `\set booking_id %d + :client_id + :n * %d
\set n :n + 1
BEGIN;
WITH bk AS (SELECT b.id AS booking_id, b.coach_id, b.session_id, b.client_id, b.outcome, b.outcome_at, b.announced_at,
	b.pack_id AS old_pack, b.fee_amount, b.charter_version_id, b.created_at,
	EXISTS (SELECT 1 FROM ledger_entries w WHERE w.booking_id = b.id AND w.kind = 'waiver') AS waived, s.starts_at,
	s.cancelled_at AS session_cancelled_at, co.currency AS coach_currency, n.id IS NOT NULL AS bought,
	n.charter_version_id AS newest_charter
	FROM bookings b JOIN sessions s ON s.id = b.session_id JOIN coaches co ON co.id = b.coach_id
	LEFT JOIN LATERAL (SELECT id, charter_version_id FROM packs WHERE coach_id = b.coach_id AND client_id = b.client_id
		AND activated_at IS NOT NULL ORDER BY activated_at DESC, id DESC LIMIT 1) n ON true
	WHERE b.coach_id = %d AND b.id = :booking_id FOR UPDATE OF b),
live AS (SELECT p.id, p.kind, p.status, p.sessions_remaining, p.activated_at, p.valid_until, p.overdue_since, p.weekly_cap,
	coalesce(cv.grace_days, 7) AS grace_days, p.charter_version_id
	FROM packs p LEFT JOIN charter_versions cv ON cv.id = p.charter_version_id
	WHERE p.coach_id = (SELECT coach_id FROM bk) AND p.client_id = (SELECT client_id FROM bk) AND p.status = ANY('{active,overdue,exhausted}')
	ORDER BY p.id FOR UPDATE OF p)
SELECT bk.*, (SELECT coalesce(json_agg(live ORDER BY live.id), '[]') FROM live) AS packs,
	(SELECT coalesce(json_agg(ch), '[]') FROM (SELECT id, coach_id, version, notice_hours, late_cancel_action, late_cancel_fee,
		no_show_action, no_show_fee, currency, coach_cancel, grace_days, auto_refund_excess, created_at FROM charter_versions
		WHERE coach_id = bk.coach_id AND (id IN (SELECT charter_version_id FROM live) OR id = bk.newest_charter
		OR id = (SELECT id FROM charter_versions WHERE coach_id = bk.coach_id ORDER BY version DESC LIMIT 1))) ch) AS charters,
	(SELECT id FROM live ORDER BY id LIMIT 1) AS pack_id
	FROM bk \gset r_
WITH moved AS (UPDATE packs SET sessions_remaining = sessions_remaining + -1,
	status = CASE WHEN status = 'active' AND sessions_remaining + -1 = 0 THEN 'exhausted'
		WHEN status = 'exhausted' AND sessions_remaining + -1 > 0 THEN 'active' ELSE status END, updated_at = now()
	WHERE coach_id = :r_coach_id AND id = :r_pack_id AND kind = 'sessions' AND sessions_remaining + -1 >= 0 RETURNING sessions_remaining),
entry AS (INSERT INTO ledger_entries (coach_id, client_id, pack_id, booking_id, kind, delta, reason, value_amount, currency,
	goodwill_grant_id, created_at, request_ref, request_seq)
	SELECT :r_coach_id::bigint, :r_client_id::bigint, :r_pack_id::bigint, :booking_id::bigint, 'attended'::text, -1::int, ''::text, NULL::bigint,
		NULL::text, NULL::bigint, now()::timestamptz, NULL::text, NULL::int FROM moved),
booked AS (UPDATE bookings b SET outcome = 'attended', outcome_at = now(), announced_at = NULL, pack_id = :r_pack_id, fee_amount = 0,
	charter_version_id = NULL WHERE coach_id = :r_coach_id AND id = :booking_id AND EXISTS (SELECT 1 FROM moved)
	RETURNING b.id, b.coach_id, b.session_id, b.client_id, b.outcome, b.outcome_at, b.announced_at, b.pack_id, b.fee_amount,
	b.charter_version_id, b.created_at, EXISTS (SELECT 1 FROM ledger_entries w WHERE w.booking_id = b.id AND w.kind = 'waiver') AS waived)
SELECT booked.*, (SELECT sessions_remaining FROM moved) AS left_sessions FROM booked;
COMMIT;
`

// pgbenchSameSQL replays sameSQL on the bookings just marked, with as many
// clients as there were workers: what the statements cost without Carnet.
func pgbenchSameSQL(ctx context.Context, c config, d *sqlx.DB, dbURL string, packs []int64, meter cpuMeter) (result, error) {
	// Fresh bookings for the bench's clients, ten to a past session (the
	// sessions taking the groups of ten in turn), more than pgbench can mark
	// in its run; in one statement, so their ids follow each other.
	sessions := 300 * c.pgbenchSeconds
	var first, count int64
	var coachID int64
	if err := d.GetContext(ctx, &coachID, `SELECT coach_id FROM packs WHERE id = $1`, packs[0]); err != nil {
		return result{}, err
	}
	if err := d.QueryRowxContext(ctx, `WITH cl AS (SELECT client_id, row_number() OVER (ORDER BY id) - 1 AS k
			FROM packs WHERE id = ANY($3)),
		s AS (INSERT INTO sessions (coach_id, title, starts_at, duration_minutes, kind)
			SELECT $1, 'pgbench', now() - interval '30 days' + g * interval '1 minute', 45, 'group'
			FROM generate_series(1, $2) g RETURNING id),
		sn AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS g FROM s),
		b AS (INSERT INTO bookings (coach_id, session_id, client_id, created_at)
			SELECT $1, sn.id, cl.client_id, now() FROM sn JOIN cl
				ON cl.k / 10 = sn.g % greatest(1, (SELECT count(*) FROM cl) / 10)
			ORDER BY sn.id, cl.k RETURNING id)
		SELECT min(id), count(*) FROM b`, coachID, sessions, packIDs(packs)).Scan(&first, &count); err != nil {
		return result{}, err
	}
	var last int64
	if err := d.GetContext(ctx, &last, `SELECT max(id) FROM bookings`); err != nil {
		return result{}, err
	}
	if last != first+count-1 {
		return result{}, fmt.Errorf("pgbench's bookings are not one run of ids (%d to %d, %d of them)", first, last, count)
	}
	return runPgbench(ctx, c, dbURL, "pgbench, the same SQL", fmt.Sprintf(sameSQL, first, c.workers, coachID), meter, "-D", "n=0")
}

// pgbenchWithoutReports runs the minimal deduction and the same SQL again
// with the triggers that keep the reports' summaries switched off (on the
// bench's own database, switched back on after): the gap to the runs with
// them is what keeping the reports exact in the same transaction costs.
func pgbenchWithoutReports(ctx context.Context, c config, d *sqlx.DB, dbURL string, packs []int64, meter cpuMeter) ([]result, error) {
	const triggers = `ALTER TABLE bookings %[1]s TRIGGER report_booking_outcome;
		ALTER TABLE ledger_entries %[1]s TRIGGER report_ledger_entry`
	if _, err := d.ExecContext(ctx, fmt.Sprintf(triggers, "DISABLE")); err != nil {
		return nil, err
	}
	fmt.Fprintln(os.Stderr, "the reports' triggers switched off for the next two runs")
	pg, err := pgbenchMinimal(ctx, c, d, dbURL, packs, meter)
	if err != nil {
		return nil, err
	}
	same, err := pgbenchSameSQL(ctx, c, d, dbURL, packs, meter)
	if err != nil {
		return nil, err
	}
	// On again before the webhook load, whose entries they report.
	if _, err := d.ExecContext(ctx, fmt.Sprintf(triggers, "ENABLE")); err != nil {
		return nil, err
	}
	pg.name += ", without the reports' triggers"
	same.name += ", without the reports' triggers"
	return []result{pg, same}, nil
}

// runPgbench runs script for c.pgbenchSeconds and reads each transaction's
// latency from pgbench's log.
func runPgbench(ctx context.Context, c config, dbURL, name, script string, meter cpuMeter, args ...string) (result, error) {
	bin := c.pgbench
	if bin == "" {
		bin = findPgbench()
	}
	dir, err := os.MkdirTemp("", "carnet-bench")
	if err != nil {
		return result{}, err
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "script.sql")
	if err := os.WriteFile(file, []byte(script), 0o600); err != nil {
		return result{}, err
	}
	fmt.Fprintln(os.Stderr, "running:", name)
	cmd := exec.CommandContext(ctx, bin, append(append([]string{"-n", "-M", "prepared", "-c", strconv.Itoa(c.workers), "-j", "2",
		"-T", strconv.Itoa(c.pgbenchSeconds), "-l", "--log-prefix", filepath.Join(dir, "log")}, args...), "-f", file, dbURL)...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	var runErr error
	measured := meter.during(func() result {
		runErr = cmd.Run()
		waitBackendsGone(ctx, dbURL, "pgbench")
		return result{}
	})
	if runErr != nil {
		return result{}, fmt.Errorf("pgbench: %w\n%s", runErr, out.String())
	}
	// Each log line: client transaction latency(us) script epoch epoch_us.
	var lat []time.Duration
	logs, _ := filepath.Glob(filepath.Join(dir, "log*"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 3 {
				us, _ := strconv.Atoi(f[2])
				lat = append(lat, time.Duration(us)*time.Microsecond)
			}
		}
	}
	measured.cpu.ops = len(lat)
	return result{name: name, n: len(lat), elapsed: time.Duration(c.pgbenchSeconds) * time.Second, lat: lat, cpu: measured.cpu}, nil
}

func packIDs(ids []int64) string { return "{" + joinIDs(ids) + "}" }

func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

func findPgbench() string {
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if p := filepath.Join(strings.TrimSpace(string(out)), "pgbench"); fileExists(p) {
			return p
		}
	}
	if matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pgbench"); len(matches) > 0 {
		return matches[len(matches)-1]
	}
	return "pgbench"
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// seedCheckouts opens purchases through the API (Carnet asks stripe-mock
// for each Checkout Session) and returns the events Stripe would send for
// each paid by card, built by the same code as `carnet stripe send`.
func seedCheckouts(ctx context.Context, api *client, d *sqlx.DB, n int) ([][]byte, error) {
	var offer struct {
		ID int64 `json:"id"`
	}
	if err := api.post("/v1/offers", map[string]any{"name": "Bench upfront", "kind": "sessions", "sessions": 10,
		"validity_days": 180, "price_amount": 30000, "upfront": true}, &offer); err != nil {
		return nil, err
	}
	var payloads [][]byte
	var mu sync.Mutex
	res := load("seeding checkouts", 8, n, func(i int) error {
		var cl struct {
			ID int64 `json:"id"`
		}
		if err := api.post("/v1/clients", map[string]any{"name": fmt.Sprintf("Buyer %d", i), "email": fmt.Sprintf("b%d@bench.test", i)}, &cl); err != nil {
			return err
		}
		var co struct {
			PackID int64 `json:"pack_id"`
		}
		if err := api.post("/v1/checkout", map[string]any{"client_id": cl.ID, "offer_id": offer.ID, "plan": "upfront"}, &co); err != nil {
			return err
		}
		evs, err := localstripe.Simulate(ctx, d, co.PackID, "card", time.Now())
		if err != nil {
			return err
		}
		mu.Lock()
		payloads = append(payloads, evs...)
		mu.Unlock()
		return nil
	})
	_ = res
	rand.Shuffle(len(payloads), func(i, j int) { payloads[i], payloads[j] = payloads[j], payloads[i] })
	return payloads, nil
}

func webhookSecret(ctx context.Context, d *sqlx.DB) (string, error) {
	var b []byte
	if err := d.GetContext(ctx, &b, `SELECT value FROM app_secrets WHERE name = 'stripe_webhook_secret'`); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return "whsec_" + hex.EncodeToString(b), nil
}

// seedReadSet writes a second coach with readClients clients, a pack each,
// and entries ledger entries, in SQL: only reads are measured on it.
func seedReadSet(ctx context.Context, d *sqlx.DB, c config) (string, error) {
	coach, key, err := auth.CreateCoach(ctx, d, auth.NewCoach{Name: "Big studio", Email: "big@carnet.test", Currency: "EUR", Timezone: "Europe/Paris"})
	if err != nil {
		return "", err
	}
	var offer int64
	if err := d.GetContext(ctx, &offer, `INSERT INTO offers (coach_id, name, kind, sessions, validity_days, price_amount, currency, upfront)
		VALUES ($1, 'Big pack', 'sessions', 20, 365, 40000, 'EUR', true) RETURNING id`, coach.ID); err != nil {
		return "", err
	}
	perPack := max(1, c.entries/c.readClients)
	steps := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO clients (coach_id, name, email) SELECT $1, 'Client ' || lpad(g::text, 6, '0'), 'r' || g || '@bench.test'
			FROM generate_series(1, $2::int) g`, []any{coach.ID, c.readClients}},
		{`INSERT INTO packs (coach_id, client_id, offer_id, kind, status, plan, price_amount, currency,
			sessions_credited, sessions_remaining, validity_days, activated_at, valid_until)
			SELECT $1, id, $2, 'sessions', 'active', 'manual', 40000, 'EUR', 20, 20, 365, now(),
				now() + (id % 300 + 1) * interval '1 day'
			FROM clients WHERE coach_id = $1`, []any{coach.ID, offer}},
		{`INSERT INTO ledger_entries (coach_id, client_id, pack_id, kind, delta, reason, created_at)
			SELECT p.coach_id, p.client_id, p.id, 'adjustment', 0, 'bench', now() - g * interval '1 hour'
			FROM packs p, generate_series(1, $2::int) g WHERE p.coach_id = $1`, []any{coach.ID, perPack}},
		// Vacuumed and analysed as autovacuum keeps a live database: the
		// million rows just written would otherwise get their hint bits
		// and visibility set by the first reads measured, and autovacuum
		// would take a core in the middle of them.
		{`VACUUM ANALYZE`, nil},
		// Written back now, not while the reads are measured: a million
		// rows just written would otherwise be flushed under the first
		// read load (its p99 doubled in a run without this).
		{`CHECKPOINT`, nil},
	}
	for _, st := range steps {
		if _, err := d.ExecContext(ctx, st.sql, st.args...); err != nil {
			return "", fmt.Errorf("seed: %w", err)
		}
	}
	return key, nil
}

// lastCursor walks the overview to its last page and returns that page's
// cursor and the number of pages.
func lastCursor(c *client) (string, int, error) {
	cursor, pages := "", 1
	for {
		var page struct {
			NextCursor string `json:"next_cursor"`
		}
		path := "/v1/balances?limit=50"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := c.get(path, &page); err != nil {
			return "", 0, err
		}
		if page.NextCursor == "" {
			return cursor, pages, nil
		}
		cursor, pages = page.NextCursor, pages+1
	}
}

func freshDatabase(ctx context.Context, admin, name string) (string, error) {
	d, err := sqlx.Open("postgres", admin)
	if err != nil {
		return "", err
	}
	defer d.Close()
	if _, err := d.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
		return "", err
	}
	if _, err := d.ExecContext(ctx, `CREATE DATABASE `+name); err != nil {
		return "", err
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func pgVersion(ctx context.Context, d *sqlx.DB) string {
	var v string
	_ = d.GetContext(ctx, &v, `SHOW server_version`)
	return "PostgreSQL " + v
}

func numCPU() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return max(1, strings.Count(string(b), "processor\t:"))
}
