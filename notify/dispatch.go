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
	// ClaimFor is how long a dispatcher holds a message it is sending. If
	// the process dies, the claim lapses and another one sends it; a send
	// is cut off (sendTimeout) well before the claim runs out.
	ClaimFor = 2 * time.Minute
	// MaxAttempts is how many failed sends make a message failed for good.
	MaxAttempts = 8
	// batchMax bounds one runOnce, so a job returns now and then.
	batchMax = 100

	firstRetry  = 30 * time.Second
	maxRetry    = time.Hour
	sendTimeout = 30 * time.Second
)

// Backoff is the wait after the n-th failed send (n from 1): 30 s, 1 min,
// 2 min, ... capped at one hour.
func Backoff(n int) time.Duration {
	d := firstRetry
	for i := 1; i < n && d < maxRetry; i++ {
		d *= 2
	}
	return min(d, maxRetry)
}

// Dispatcher sends the outbox. Many may run at once (one per process): each
// message is claimed by one of them, with FOR UPDATE SKIP LOCKED.
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

// claimed is an outbox row a dispatcher holds.
type claimed struct {
	ID           int64     `db:"id"`
	Cause        string    `db:"cause_key"`
	Template     string    `db:"template"`
	Locale       string    `db:"locale"`
	Recipient    string    `db:"recipient"`
	Data         []byte    `db:"data"`
	Attempts     int       `db:"attempts"`
	ClaimedUntil time.Time `db:"claimed_until"`
	// The coach a message to a client comes from: their name is the
	// sender's, their address the Reply-To. Empty for whoever runs Carnet.
	CoachName  string `db:"coach_name"`
	CoachEmail string `db:"coach_email"`
}

// runOnce sends (or keeps) the messages due now, one claim at a time, and
// returns how many it handled. A message whose send fails is scheduled
// again later, so it is not picked up twice by one run.
func (d *Dispatcher) runOnce(ctx context.Context) (int, error) {
	n := 0
	for n < batchMax {
		m, ok, err := d.claim(ctx)
		if err != nil || !ok {
			return n, err
		}
		if err := d.handle(ctx, m); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// handle renders a claimed message and sends or keeps it. Only a database
// error is returned; a failed send is recorded on the row.
func (d *Dispatcher) handle(ctx context.Context, m claimed) error {
	r, err := renderStored(m.Template, m.Locale, m.Data)
	if err != nil {
		// Rendering is deterministic: trying again cannot help.
		return d.finish(ctx, m, "failed", "", err.Error())
	}
	if d.SMTPURL == "" {
		return d.finish(ctx, m, "kept", r.Subject, "")
	}
	msgID, err := d.messageID(ctx, m.Cause)
	if err != nil {
		return err
	}
	if err := d.send(ctx, m, r, msgID); err != nil {
		return d.retry(ctx, m, r.Subject, err)
	}
	return d.finish(ctx, m, "sent", r.Subject, "")
}

type rowsAffected interface{ RowsAffected() (int64, error) }

func (d *Dispatcher) recorded(ctx context.Context, res rowsAffected, m claimed, status, lastErr string) {
	log := d.log()
	if n, _ := res.RowsAffected(); n == 0 {
		// Our claim lapsed and another dispatcher took the message over.
		log.WarnContext(ctx, "notification claim lost", "id", m.ID, "cause", m.Cause, "status", status)
		return
	}
	if d.Observe != nil {
		outcome := status
		if status == "pending" {
			outcome = "retry"
		}
		d.Observe(outcome)
	}
	switch status {
	case "sent", "kept":
		log.InfoContext(ctx, "notification "+status, "id", m.ID, "cause", m.Cause, "template", m.Template)
	default:
		log.WarnContext(ctx, "notification not sent", "id", m.ID, "cause", m.Cause, "status", status,
			"attempts", m.Attempts+1, "err", lastErr)
	}
}

// messageID derives the Message-ID from the cause, so a receiver can drop a
// copy; the installation's own secret keeps two installations from colliding.
func (d *Dispatcher) messageID(ctx context.Context, cause string) (string, error) {
	d.saltMu.Lock()
	defer d.saltMu.Unlock()
	if d.salt == nil {
		salt, err := db.Secret(ctx, d.DB, "notify.message_id", 32)
		if err != nil {
			return "", fmt.Errorf("notify: message id secret: %w", err)
		}
		d.salt = salt
	}
	h := hmac.New(sha256.New, d.salt)
	h.Write([]byte(cause))
	domain := "carnet"
	if at := strings.LastIndexByte(d.from(), '@'); at >= 0 && at < len(d.from())-1 {
		domain = strings.Trim(d.from()[at+1:], "<> ")
	}
	return "<" + hex.EncodeToString(h.Sum(nil)[:16]) + "@" + domain + ">", nil
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

// DispatchArgs is the periodic job that sends the outbox.
type DispatchArgs struct{}

// Kind names the job in River's table.
func (DispatchArgs) Kind() string { return "notify.dispatch" }

// DispatchWorker sends every message due; overlapping runs are safe (each
// message is claimed by one of them).
type DispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	Dispatcher *Dispatcher
}

// Timeout lets a long backlog drain past River's default minute; each send
// has its own deadline.
func (w *DispatchWorker) Timeout(*river.Job[DispatchArgs]) time.Duration { return 10 * time.Minute }

// Work sends until nothing is due.
func (w *DispatchWorker) Work(ctx context.Context, _ *river.Job[DispatchArgs]) error {
	for {
		n, err := w.Dispatcher.runOnce(ctx)
		if err != nil || n == 0 {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// RunOnce sends (or keeps) what is due now, as one run of the job does.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) { return d.runOnce(ctx) }
