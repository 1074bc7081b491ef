package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
)

// A probe says where a load's time went: the statements the server sent
// per operation (read from its /metrics before and after), what
// PostgreSQL's backends were doing meanwhile (pg_stat_activity sampled
// every 10 ms: running a statement, waiting on a lock, or idle in a
// transaction, waiting for Carnet's next statement), and optionally a CPU
// profile of the server.
type probe struct {
	srv     *server
	conn    *sqlx.Conn // its own connection, whose backend's CPU is the bench's, not Carnet's
	pid     int        // that backend's
	profile string     // directory for CPU profiles ("" for none)
}

func newProbe(ctx context.Context, srv *server, d *sqlx.DB, profile string) (*probe, error) {
	if profile != "" {
		if err := os.MkdirAll(profile, 0o755); err != nil {
			return nil, err
		}
	}
	conn, err := d.Connx(ctx)
	if err != nil {
		return nil, err
	}
	p := &probe{srv: srv, conn: conn, profile: profile}
	return p, conn.GetContext(ctx, &p.pid, `SELECT pg_backend_pid()`)
}

type probed struct {
	name                      string
	ops                       int
	prepared, reused, simple  float64
	running, locked, idleInTx int
	samples                   int
}

// during runs fn (a load of ops operations) under the probe.
func (p *probe) during(name string, fn func() result) (result, probed) {
	before := p.srv.statements()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	out := probed{name: name}
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.sample(ctx, &out)
	}()
	if p.profile != "" {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.cpuProfile(name)
		}()
	}
	r := fn()
	cancel()
	wg.Wait()
	after := p.srv.statements()
	out.ops = r.n
	per := func(k string) float64 { return (after[k] - before[k]) / float64(max(1, r.n)) }
	out.prepared, out.reused, out.simple = per("prepared"), per("reused"), per("simple")
	return r, out
}

func (p *probe) sample(ctx context.Context, out *probed) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var rows []struct {
			State string `db:"state"`
			Wait  string `db:"wait"`
		}
		// Never cancelled mid-query: a cancelled query can leave the probe's
		// one connection unusable, and every later load without samples.
		if err := p.conn.SelectContext(context.WithoutCancel(ctx), &rows, `SELECT coalesce(state, '') AS state, coalesce(wait_event_type, '') AS wait
			FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'
			AND pid <> pg_backend_pid() AND application_name = ''`); err != nil {
			continue
		}
		for _, r := range rows {
			switch {
			case r.State == "active" && r.Wait == "Lock":
				out.locked++
			case r.State == "active":
				out.running++
			case strings.HasPrefix(r.State, "idle in transaction"):
				out.idleInTx++
			default:
				continue
			}
			out.samples++
		}
	}
}

// cpuProfile takes the server's CPU profile for the first 5 s of the load
// (pprof on the operator address); a shorter load waits for it.
func (p *probe) cpuProfile(name string) {
	res, err := http.Get(p.srv.ops + "/debug/pprof/profile?seconds=5")
	if err != nil {
		fmt.Fprintln(os.Stderr, "  profile:", err)
		return
	}
	defer res.Body.Close()
	file := filepath.Join(p.profile, strings.NewReplacer(" ", "-", "'", "", ",", "").Replace(name)+".pprof")
	f, err := os.Create(file)
	if err != nil {
		fmt.Fprintln(os.Stderr, "  profile:", err)
		return
	}
	defer f.Close()
	if _, err := bufio.NewReader(res.Body).WriteTo(f); err == nil {
		fmt.Fprintln(os.Stderr, "  profile:", file)
	}
}

func (o probed) row() string {
	pct := func(n int) string {
		if o.samples == 0 {
			return "-"
		}
		return fmt.Sprintf("%.0f %%", 100*float64(n)/float64(o.samples))
	}
	return fmt.Sprintf("| %s | %.1f | %.1f / %.1f / %.1f | %s | %s | %s |", o.name, o.prepared+o.reused+o.simple,
		o.reused, o.prepared, o.simple, pct(o.running), pct(o.locked), pct(o.idleInTx))
}

const probeHeader = `| measure | statements per operation | reused / prepared / simple | backends running | waiting on a lock | idle in transaction |
| --- | --- | --- | --- | --- | --- |`

// statements reads carnet_db_statements_total from the server's /metrics.
func (s *server) statements() map[string]float64 {
	out := map[string]float64{}
	res, err := http.Get(s.ops + "/metrics")
	if err != nil {
		return out
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), `carnet_db_statements_total{kind="`)
		if !ok {
			continue
		}
		kind, value, _ := strings.Cut(line, `"} `)
		out[kind], _ = strconv.ParseFloat(value, 64)
	}
	return out
}
