package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"carnet/internal/db"
)

// cluster is a PostgreSQL server of this test's own, so that stopping it
// disturbs no other test.
type cluster struct {
	t    *testing.T
	bin  string // PostgreSQL's bin directory
	dir  string
	port int
}

func pgBin(t *testing.T) string {
	t.Helper()
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		if d := strings.TrimSpace(string(out)); fileExists(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(matches) == 0 {
		t.Fatal("PostgreSQL's server binaries (pg_ctl, initdb) are needed: scripts/services.sh installs them")
	}
	return filepath.Dir(matches[len(matches)-1])
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// pgCmd runs a PostgreSQL binary, as the postgres account when we are root
// (initdb and postgres refuse root).
func (c *cluster) run(name string, args ...string) {
	c.t.Helper()
	path := filepath.Join(c.bin, name)
	var cmd *exec.Cmd
	if os.Geteuid() == 0 {
		cmd = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	cmd.Dir = c.dir
	if out, err := cmd.CombinedOutput(); err != nil {
		c.t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{t: t, bin: pgBin(t)}
	var err error
	if c.dir, err = os.MkdirTemp("", "carnet-pgrestart-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(c.dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal("running as root needs a postgres account to own the test cluster")
		}
		uid, uerr := strconv.Atoi(u.Uid)
		gid, gerr := strconv.Atoi(u.Gid)
		if err := errors.Join(uerr, gerr); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(c.dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.run("initdb", "-D", filepath.Join(c.dir, "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale")
	c.start()
	t.Cleanup(func() { c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "-w", "stop") })
	return c
}

func (c *cluster) start() {
	c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "log"), "-w", "-t", "60", "-o",
		fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off", c.port), "start")
}

func (c *cluster) stop() {
	c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-m", "fast", "-w", "stop")
}

func (c *cluster) url(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

// PostgreSQL stops under load and comes back: while it is down every API
// request answers 503 unavailable with Retry-After and /readyz says why;
// Carnet recovers without a restart; a request answered 503 applied nothing,
// so its retry applies it exactly once.
func TestDatabaseRestartUnderLoad(t *testing.T) {
	t.Parallel()
	pg := startCluster(t)
	admin, err := db.Open(context.Background(), pg.url("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE DATABASE carnet`); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	a := startAppOn(t, pg.url("carnet"))
	key := a.coach("restart@example.com")
	cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "R", "email": "r@example.com"})
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "20", "kind": "sessions", "sessions": 20, "price_amount": 100})
	pack := a.must(201, "POST", "/v1/clients/"+id(cl)+"/packs", key, map[string]any{"offer_id": offer["id"], "method": "cash"})

	var (
		stop                      atomic.Bool
		applied, unavailable, bad atomic.Int64
		mu                        sync.Mutex
		problems                  []string
		wg                        sync.WaitGroup
	)
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; !stop.Load(); n++ {
				reason := fmt.Sprintf("load %d-%d", g, n)
				delta := 1 - 2*(n%2) // +1, -1, ...: the balance stays in range
				for deadline := time.Now().Add(60 * time.Second); ; {
					r := a.do("POST", "/v1/clients/"+id(cl)+"/adjustments", key,
						map[string]any{"pack_id": pack["id"], "delta": delta, "reason": reason})
					if r.Status == 201 {
						applied.Add(1)
						break
					}
					if r.Status == 503 && r.code(t) == "unavailable" && r.Header.Get("Retry-After") != "" {
						unavailable.Add(1)
					} else {
						bad.Add(1)
						mu.Lock()
						problems = append(problems, fmt.Sprintf("%d %.200s", r.Status, r.Body))
						mu.Unlock()
					}
					if time.Now().After(deadline) {
						mu.Lock()
						problems = append(problems, "no recovery within 60 s")
						mu.Unlock()
						return
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}
	time.Sleep(time.Second)
	pg.stop()
	downAt := time.Now()
	time.Sleep(1500 * time.Millisecond)
	r := a.do("GET", "/readyz", "", nil)
	if r.Status != 503 || !strings.Contains(string(r.Body), "database unreachable") || r.Header.Get("Retry-After") == "" {
		t.Errorf("readyz while the database is down: %d %s", r.Status, r.Body)
	}
	if r := a.do("GET", "/v1/clients", key, nil); r.Status != 503 || r.code(t) != "unavailable" {
		t.Errorf("a read while the database is down: %d %s", r.Status, r.Body)
	}
	if r := a.do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Errorf("healthz while the database is down: %d", r.Status)
	}
	pg.start()
	t.Logf("database down for %v", time.Since(downAt))
	ready := false
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if a.do("GET", "/readyz", "", nil).Status == 200 {
			ready = true
			break
		}
	}
	if !ready {
		t.Fatal("Carnet did not become ready again within 30 s of the database's return")
	}
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()

	t.Logf("%d adjustments applied, %d answers 503 (retried), %d other failures", applied.Load(), unavailable.Load(), bad.Load())
	if bad.Load() > 0 {
		t.Errorf("answers other than 201 or 503 unavailable: %v", problems)
	}
	if unavailable.Load() == 0 {
		t.Error("no request met the database down")
	}
	var twice []string
	if err := a.m.DB.Select(&twice, `SELECT reason FROM ledger_entries WHERE kind = 'adjustment' GROUP BY reason HAVING count(*) > 1`); err != nil {
		t.Fatal(err)
	}
	if len(twice) > 0 {
		t.Errorf("applied twice: %v", twice)
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE kind = 'adjustment'`); int64(n) != applied.Load() {
		t.Errorf("%d adjustments in the ledger, %d answered 201", n, applied.Load())
	}
	if out, err := runCmdWith(t, a.m.Config, "verify"); err != nil {
		t.Fatalf("verify after the restart: %v\n%s", err, out)
	}
}
