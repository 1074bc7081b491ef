package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// CPU time is what the two cores are shared out in: on a machine where the
// load generator, Carnet and PostgreSQL all run, a load's throughput is the
// cores divided by what one operation costs all of them. Each load's CPU
// is read from /proc before and after it, per party: the server, every
// PostgreSQL process (the postmaster, its live children and, through its
// cutime, the children it reaped meanwhile: pgbench's backends), this
// process (the HTTP workers, or pgbench, reaped into its cutime; and the
// probe's backend, which samples pg_stat_activity), and the
// machine as a whole (what is left is stripe-mock, the dispatcher's mail
// server, and anyone else on the cores).
type cpuTicks struct {
	carnet, postgres, generator int64
	busy, total                 int64 // the machine, from /proc/stat
}

// clockTicks is USER_HZ, 100 on every Linux the project runs on.
const clockTicks = 100

type cpuMeter struct {
	carnet, postmaster int
	probe              int // the probe's backend: the bench's work, not PostgreSQL's for Carnet
}

func newCPUMeter(ctx context.Context, d *sqlx.DB, carnetPid, probeBackend int) cpuMeter {
	var backend int
	_ = d.GetContext(ctx, &backend, `SELECT pg_backend_pid()`)
	return cpuMeter{carnet: carnetPid, postmaster: statField(backend, 4), probe: probeBackend}
}

// waitBackendsGone waits (up to 5 s) until no backend of app is left, so
// that their CPU is in the postmaster's reaped time when it is read.
func waitBackendsGone(ctx context.Context, dbURL, app string) {
	d, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		return
	}
	defer d.Close()
	for range 50 {
		var n int
		if d.GetContext(ctx, &n, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`, app) != nil || n == 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // the postmaster reaps them on its next SIGCHLD
}

func (m cpuMeter) read() cpuTicks {
	t := cpuTicks{carnet: ownTicks(m.carnet), generator: ownTicks(os.Getpid()) + reapedTicks(os.Getpid())}
	if m.postmaster > 0 {
		t.postgres = ownTicks(m.postmaster) + reapedTicks(m.postmaster) - ownTicks(m.probe)
		t.generator += ownTicks(m.probe)
		procs, _ := filepath.Glob("/proc/[0-9]*")
		for _, p := range procs {
			pid, _ := strconv.Atoi(filepath.Base(p))
			if statField(pid, 4) == m.postmaster {
				t.postgres += ownTicks(pid)
			}
		}
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		// user nice system idle iowait irq softirq steal (guest time is in user)
		for i, f := range strings.Fields(line)[1:min(9, len(strings.Fields(line)))] {
			v, _ := strconv.ParseInt(f, 10, 64)
			t.total += v
			if i != 3 && i != 4 {
				t.busy += v
			}
		}
	}
	return t
}

// during measures fn's CPU, per operation of its result.
func (m cpuMeter) during(fn func() result) result {
	before := m.read()
	r := fn()
	after := m.read()
	r.cpu = cpuUse{ops: r.n, cpuTicks: cpuTicks{carnet: after.carnet - before.carnet, postgres: after.postgres - before.postgres,
		generator: after.generator - before.generator, busy: after.busy - before.busy, total: after.total - before.total}}
	return r
}

// cpuUse is what one load took: the ticks it spent, and its operations.
type cpuUse struct {
	ops int
	cpuTicks
}

// perOp is ticks as milliseconds of CPU per operation.
func (u cpuUse) perOp(ticks int64) float64 {
	return float64(ticks) * 1000 / clockTicks / float64(max(1, u.ops))
}

func (u cpuUse) row(name string) string {
	if u.ops == 0 {
		return ""
	}
	other := u.busy - u.carnet - u.postgres - u.generator
	busy := "-"
	if u.total > 0 {
		busy = fmt.Sprintf("%.0f %%", 100*float64(u.busy)/float64(u.total))
	}
	return fmt.Sprintf("| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %s |", name, u.perOp(u.carnet), u.perOp(u.postgres),
		u.perOp(u.carnet+u.postgres), u.perOp(u.generator), u.perOp(max(0, other)), busy)
}

const cpuHeader = `| measure | Carnet | PostgreSQL | Carnet + PostgreSQL | load generator (HTTP workers or pgbench; the probe) | the rest of the machine | machine busy |
| --- | --- | --- | --- | --- | --- | --- |`

// ownTicks is a process's user and system time; reapedTicks its waited-for
// children's (0 for a process gone or unreadable).
func ownTicks(pid int) int64    { return int64(statField(pid, 14) + statField(pid, 15)) }
func reapedTicks(pid int) int64 { return int64(statField(pid, 16) + statField(pid, 17)) }

// statField is field n (1-based, as in proc(5)) of /proc/pid/stat.
func statField(pid, n int) int {
	if pid <= 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command (field 2) is in parentheses and may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if n-3 < 0 || n-3 >= len(f) {
		return 0
	}
	v, _ := strconv.Atoi(f[n-3])
	return v
}
