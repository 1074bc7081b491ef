// Package jobs runs background work on River, a job queue kept in the same
// PostgreSQL: any number of processes share it safely, periodic jobs run on
// the elected leader only, and a job inserted in a transaction exists only
// if that transaction commits.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/rivermigrate"
)

// Client is the River client over database/sql (lib/pq).
type Client = river.Client[*sql.Tx]

// Migrate brings River's own tables up to date and returns the names of
// the migrations it applied ("river 006 bulk_unique", ...), none when current.
func Migrate(ctx context.Context, d *sql.DB) ([]string, error) {
	m, err := rivermigrate.New(riverdatabasesql.New(d), nil)
	if err != nil {
		return nil, err
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate river: %w", err)
	}
	var applied []string
	for _, v := range res.Versions {
		applied = append(applied, fmt.Sprintf("river %03d %s", v.Version, v.Name))
	}
	return applied, nil
}

// Every is a periodic job: args made afresh every interval, and once at start.
func Every(interval time.Duration, args func() river.JobArgs) *river.PeriodicJob {
	return river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args(), nil },
		&river.PeriodicJobOpts{RunOnStart: true})
}

// RescueAfter is how long a job may stay running before River takes it for
// the job of a dead process and runs it again.
const RescueAfter = 10 * time.Minute

// New builds a client that works the given workers on River's default queue
// (4 at a time) and on the queues given. lib/pq cannot LISTEN through
// database/sql, so River polls.
func New(d *sql.DB, log *slog.Logger, workers *river.Workers, periodic []*river.PeriodicJob, queues map[string]river.QueueConfig) (*Client, error) {
	all := map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 4}}
	maps.Copy(all, queues)
	return river.NewClient(riverdatabasesql.New(d), &river.Config{
		Queues:            all,
		Workers:           workers,
		PeriodicJobs:      periodic,
		PollOnly:          true,
		FetchPollInterval: time.Second,
		// A job whose process died (a message sent, not yet recorded) runs
		// again after this, not River's hour; every job's timeout is shorter.
		RescueStuckJobsAfter: RescueAfter,
		Logger:               slog.New(quiet{log.Handler()}),
	})
}

// quiet passes on River's warnings and errors only: its start-up chatter
// ("entering poll only mode") is noise in every command's output.
type quiet struct{ slog.Handler }

func (q quiet) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}
func (q quiet) WithAttrs(a []slog.Attr) slog.Handler { return quiet{q.Handler.WithAttrs(a)} }
func (q quiet) WithGroup(n string) slog.Handler      { return quiet{q.Handler.WithGroup(n)} }

// InsertOnly is a client that only inserts jobs (for tools and tests that
// enqueue work some serve process will run).
func InsertOnly(d *sql.DB) (*Client, error) {
	return river.NewClient(riverdatabasesql.New(d), &river.Config{})
}

// Schema is the text of every migration River brings, in order: what its
// tables look like in the version go.mod pins. The test template is named
// after it, so a River upgrade that changes them builds a new template.
func Schema() (string, error) {
	m, err := rivermigrate.New(riverdatabasesql.New(nil), nil)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, v := range m.AllVersions() {
		fmt.Fprintf(&b, "-- river %d %s\n%s\n", v.Version, v.Name, v.SQLUp)
	}
	return b.String(), nil
}

// Func works every job of kind T by calling Fn: for periodic jobs whose
// arguments say nothing but their kind.
type Func[T river.JobArgs] struct {
	river.WorkerDefaults[T]
	Fn func(ctx context.Context) error
}

// Work calls Fn.
func (w *Func[T]) Work(ctx context.Context, _ *river.Job[T]) error { return w.Fn(ctx) }
