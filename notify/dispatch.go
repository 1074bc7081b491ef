package notify

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"carnet/internal/db"
)

const (
	// MaxAttempts is how many failed sends make a message failed for good
	// (River's attempts of its job).
	MaxAttempts = 8

	firstRetry  = 30 * time.Second
	maxRetry    = time.Hour
	sendTimeout = 30 * time.Second
)

// Backoff is the wait after the n-th failed send (n from 1): 30 s, 1 min,
// 2 min, ... capped at one hour. River schedules the retry (NextRetry).
func Backoff(n int) time.Duration {
	d := firstRetry
	for i := 1; i < n && d < maxRetry; i++ {
		d *= 2
	}
	return min(d, maxRetry)
}

// Dispatcher sends one message of the outbox at a time, for River's
// SendWorker. Many may run at once (one per process and worker): a message is
// sent under its row's lock, once.
type Dispatcher struct {
	DB *sqlx.DB
	// SMTPURL is smtp://user:pass@host:port (STARTTLS when the server offers
	// it) or smtps://... (TLS from the start). Empty: messages are rendered
	// and kept (status kept), never sent.
	SMTPURL string
	From    string // the sender address, e.g. carnet@localhost
	Now     func() time.Time
	Log     *slog.Logger
	// Observe, when set, is told the outcome of each message handled
	// (sent, kept, retry, failed), for the metrics.
	Observe func(outcome string)

	rootCAs *x509.CertPool // tests trust their own server; nil is the system pool

	saltMu sync.Mutex
	salt   []byte
}

// outgoing is an outbox row being sent.
type outgoing struct {
	ID           int64      `db:"id"`
	Cause        string     `db:"cause_key"`
	Template     string     `db:"template"`
	Locale       string     `db:"locale"`
	Recipient    string     `db:"recipient"`
	Data         []byte     `db:"data"`
	Attempts     int        `db:"attempts"`
	NotBefore    *time.Time `db:"not_before"`
	ClaimedUntil *time.Time `db:"claimed_until"`
	// The coach a message to a client comes from: their name is the
	// sender's, their address the Reply-To. Empty for whoever runs Carnet.
	CoachName  string `db:"coach_name"`
	CoachEmail string `db:"coach_email"`
}

// deliver sends (or keeps) message id (last: on its job's last attempt), and
// records the outcome. It holds the row's lock from reading to recording:
// another job for the same row waits and then finds it sent, and Revise
// sees it as being sent. A message already sent, kept or failed is done. A
// held message (not_before), or one the previous release's dispatcher has
// claimed, is snoozed until then. A failed send is recorded and returned, for
// River to retry, or, on the last attempt, recorded failed.
func (d *Dispatcher) deliver(ctx context.Context, id int64, last bool) error {
	salt, err := d.saltOf(ctx) // before the lock: it may need a connection of its own
	if err != nil {
		return err
	}
	var result error
	err = db.InTx(ctx, d.DB, func(tx *sqlx.Tx) error {
		m, found, err := lockPending(ctx, tx, id)
		if err != nil || !found {
			return err
		}
		now := d.now()
		for _, until := range []*time.Time{m.NotBefore, m.ClaimedUntil} {
			if until != nil && until.After(now) {
				result = river.JobSnooze(until.Sub(now))
				return nil
			}
		}
		r, err := renderStored(m.Template, m.Locale, m.Data)
		if err != nil {
			// Rendering is deterministic: trying again cannot help.
			return d.record(ctx, tx, m, "failed", "", err.Error(), false)
		}
		if d.SMTPURL == "" {
			return d.record(ctx, tx, m, "kept", r.Subject, "", false)
		}
		if err := d.send(ctx, m, r, messageID(salt, m.Cause, d.from())); err != nil {
			result = err
			status := "pending"
			if last {
				status, result = "failed", nil
			}
			return d.record(ctx, tx, m, status, r.Subject, err.Error(), true)
		}
		return d.record(ctx, tx, m, "sent", r.Subject, "", true)
	})
	if err != nil {
		return fmt.Errorf("notify: message %d: %w", id, err)
	}
	return result
}

// messageID derives the Message-ID from the cause, so a receiver can drop a
// copy; the installation's own secret keeps two installations from colliding.
func messageID(salt []byte, cause, from string) string {
	h := hmac.New(sha256.New, salt)
	h.Write([]byte(cause))
	domain := "carnet"
	if at := strings.LastIndexByte(from, '@'); at >= 0 && at < len(from)-1 {
		domain = strings.Trim(from[at+1:], "<> ")
	}
	return "<" + hex.EncodeToString(h.Sum(nil)[:16]) + "@" + domain + ">"
}

func (d *Dispatcher) now() time.Time {
	if d.Now == nil {
		return time.Now().UTC()
	}
	return d.Now().UTC()
}

func (d *Dispatcher) log() *slog.Logger {
	if d.Log == nil {
		return slog.Default()
	}
	return d.Log
}

func (d *Dispatcher) from() string {
	if d.From == "" {
		return "carnet@localhost"
	}
	return d.From
}

// Queue is the River queue the messages go through, apart from the other
// jobs: a backlog of mail does not hold up a refund, nor a sweep the mail.
const Queue = "notify"

// QueueConfig is how a process works Queue: 8 sends at a time (each holds a
// connection while it sends), fetched again 10 ms after one ends. River's
// default (4, 100 ms) sent 39 messages a second in BenchmarkOutbox, a tenth
// of the hand-written queue it replaced; this sends as many as that queue
// did, or more (docs/RELIABILITY.md, "The outbox").
var QueueConfig = river.QueueConfig{MaxWorkers: 8, FetchCooldown: 10 * time.Millisecond}

// SendArgs is the River job that sends one message, inserted with its row.
type SendArgs struct {
	ID int64 `json:"id"`
}

// Kind names the job in River's table.
func (SendArgs) Kind() string { return "notify.send" }

// InsertOpts: on Queue; River gives up after MaxAttempts tries.
func (SendArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: Queue, MaxAttempts: MaxAttempts}
}

// SendWorker sends a message; River does the attempts and the back-off.
type SendWorker struct {
	river.WorkerDefaults[SendArgs]
	Dispatcher *Dispatcher
}

// Timeout leaves the send its own deadline (sendTimeout) and the recording time.
func (w *SendWorker) Timeout(*river.Job[SendArgs]) time.Duration { return sendTimeout + 30*time.Second }

// NextRetry is Backoff after the job's attempt, by the dispatcher's clock.
func (w *SendWorker) NextRetry(j *river.Job[SendArgs]) time.Time {
	return w.Dispatcher.now().Add(Backoff(j.Attempt))
}

// Work sends the message, or records why not.
func (w *SendWorker) Work(ctx context.Context, j *river.Job[SendArgs]) error {
	return w.Dispatcher.deliver(ctx, j.Args.ID, j.Attempt >= j.MaxAttempts)
}

// adoptBatch bounds one transaction of Adopt.
const adoptBatch = 500

// AdoptArgs is the periodic job that runs Adopt (a jobs.Func).
type AdoptArgs struct{}

// Kind names the job in River's table.
func (AdoptArgs) Kind() string { return "notify.adopt" }
