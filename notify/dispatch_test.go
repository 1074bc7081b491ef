package notify_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"carnet/internal/db"
	"carnet/internal/jobs"
	"carnet/internal/mailtest"
	"carnet/internal/testdb"
	. "carnet/notify"
	"carnet/notify/notifytest"
)

// env is one test's database, coach, clock and dispatcher.
type env struct {
	t       *testing.T
	db      *sqlx.DB
	coachID int64
	mu      sync.Mutex
	now     time.Time
	d       *Dispatcher
}

func newEnv(t *testing.T, smtpURL string) *env {
	t.Helper()
	t.Parallel()
	// The clock starts a little ahead of the database's, whose now() dates
	// new rows and jobs: what is enqueued is due at once.
	e := &env{t: t, db: testdb.New(t), now: time.Now().UTC().Add(2 * time.Second).Truncate(time.Second)}
	if err := e.db.Get(&e.coachID, `INSERT INTO coaches (name, email, currency) VALUES ('Marc', 'marc@example.com', 'EUR')
		RETURNING id`); err != nil {
		t.Fatal(err)
	}
	e.d = e.dispatcher(smtpURL)
	return e
}

func (e *env) dispatcher(smtpURL string) *Dispatcher {
	return &Dispatcher{DB: e.db, SMTPURL: smtpURL, From: "Carnet <carnet@example.com>", Now: e.clock,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	e.now = e.now.Add(d)
	e.mu.Unlock()
}

// message is a French client message about an anomaly, by cause.
func (e *env) message(cause string) Message {
	return Message{CoachID: e.coachID, Cause: cause, Template: AnomalyOpenedClient, Locale: "fr",
		To: "Léa <lea@example.com>", Data: Documented[AnomalyOpenedClient]}
}

func (e *env) enqueue(ms ...Message) {
	e.t.Helper()
	err := db.InTx(context.Background(), e.db, func(tx *sqlx.Tx) error {
		for _, m := range ms {
			if err := Enqueue(context.Background(), tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// run works the send jobs due by the clock, as River would.
func (e *env) run() int {
	e.t.Helper()
	return notifytest.Work(e.t, e.db, e.d)
}

type row struct {
	Status    string     `db:"status"`
	Subject   string     `db:"subject"`
	Attempts  int        `db:"attempts"`
	LastError string     `db:"last_error"`
	SentAt    *time.Time `db:"sent_at"`
	Locale    string     `db:"locale"`
	JobID     *int64     `db:"job_id"`
}

func (e *env) row(cause string) row {
	e.t.Helper()
	var r row
	if err := e.db.Get(&r, `SELECT status, subject, attempts, last_error, sent_at, locale, job_id
		FROM notifications WHERE cause_key = $1`, cause); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// job is the River job that sends a message, as River holds it.
type job struct {
	State       string    `db:"state"`
	Attempt     int       `db:"attempt"`
	ScheduledAt time.Time `db:"scheduled_at"`
}

func (e *env) job(cause string) job {
	e.t.Helper()
	var j job
	if err := e.db.Get(&j, `SELECT j.state::text AS state, j.attempt, j.scheduled_at FROM river_job j
		JOIN notifications n ON n.job_id = j.id WHERE n.cause_key = $1 AND j.kind = 'notify.send'`, cause); err != nil {
		e.t.Fatal(err)
	}
	return j
}

func (e *env) count(query string) int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, query); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestOncePerCause(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	e.enqueue(e.message("anomaly:1:opened:client"), e.message("anomaly:1:opened:client")) // twice in one tx
	e.enqueue(e.message("anomaly:1:opened:client"))                                       // and again later
	if n := e.count(`SELECT count(*) FROM notifications`); n != 1 {
		t.Fatalf("%d rows for one cause", n)
	}
	// One job per message, named on its row.
	if n := e.count(`SELECT count(*) FROM river_job WHERE kind = 'notify.send'`); n != 1 || e.row("anomaly:1:opened:client").JobID == nil {
		t.Fatalf("%d send jobs for one message, row %+v", n, e.row("anomaly:1:opened:client"))
	}
	if n := e.run(); n != 1 {
		t.Fatalf("run handled %d", n)
	}
	if n := e.run(); n != 0 {
		t.Fatalf("a second run handled %d", n)
	}
	e.enqueue(e.message("anomaly:1:opened:client")) // after it was sent: still nothing new
	if n := e.run(); n != 0 {
		t.Fatalf("a cause already sent was sent again (%d)", n)
	}

	got := mail.Messages()
	if len(got) != 1 {
		t.Fatalf("%d emails for one cause", len(got))
	}
	m := got[0]
	if m.From != "carnet@example.com" || len(m.To) != 1 || m.To[0] != "lea@example.com" {
		t.Errorf("envelope %s -> %v", m.From, m.To)
	}
	r := e.row("anomaly:1:opened:client")
	if r.Status != "sent" || r.SentAt == nil || !r.SentAt.Equal(e.clock()) || r.Attempts != 1 {
		t.Errorf("row after send: %+v", r)
	}
	if j := e.job("anomaly:1:opened:client"); j.State != "completed" || j.Attempt != 1 {
		t.Errorf("job after send: %+v", j)
	}
	if m.Subject != r.Subject || !strings.Contains(m.Subject, "Un problème sur votre paiement") {
		t.Errorf("subject %q, stored %q", m.Subject, r.Subject)
	}
	// The client's email is in French, in plain words, with accents intact.
	for _, want := range []string{"Bonjour Léa", "prélevées en même temps", "Nous vous les remboursons automatiquement"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body)
		}
	}
	id := m.Header.Get("Message-ID")
	if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") || strings.Contains(id, "anomaly") {
		t.Errorf("Message-ID %q", id)
	}
	// The same cause always gets the same Message-ID; another cause another.
	again, _ := e.dispatcher("").MessageIDOf(context.Background(), "anomaly:1:opened:client")
	other, _ := e.d.MessageIDOf(context.Background(), "anomaly:2:opened:client")
	if again != id || other == id {
		t.Errorf("Message-ID %q, again %q, other cause %q", id, again, other)
	}
	if m.Header.Get("To") == "" || m.Header.Get("Date") == "" || !strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/alternative;") {
		t.Errorf("headers %v", m.Header)
	}
	// From the coach, by name, at Carnet's address; replies go to the coach.
	from, err := netmail.ParseAddress(m.Header.Get("From"))
	if err != nil || from.Name != "Marc" || from.Address != "carnet@example.com" || m.Header.Get("Reply-To") != "<marc@example.com>" {
		t.Errorf("From %q, Reply-To %q", m.Header.Get("From"), m.Header.Get("Reply-To"))
	}
	// The same words as HTML, beside the text.
	if !strings.Contains(m.HTML, "<p>Bonjour Léa,</p>") || !strings.Contains(m.HTML, `<html lang="fr">`) {
		t.Errorf("HTML part:\n%s", m.HTML)
	}
}

func TestKeptWithoutSMTP(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, "") // no SMTP_URL: kept, not sent
	e.enqueue(e.message("c1"))
	if n := e.run(); n != 1 {
		t.Fatalf("handled %d", n)
	}
	r := e.row("c1")
	if r.Status != "kept" || !strings.Contains(r.Subject, "Un problème sur votre paiement") || r.SentAt != nil {
		t.Errorf("kept row %+v", r)
	}
	if n := e.run(); n != 0 {
		t.Errorf("a kept message was handled again")
	}
	if len(mail.Messages()) != 0 {
		t.Errorf("kept mode sent mail")
	}
	list, err := List(context.Background(), e.db, e.coachID, Query{Limit: 10})
	if err != nil || len(list) != 1 || list[0].Status != "kept" || list[0].Subject != r.Subject {
		t.Fatalf("List = %+v, %v", list, err)
	}
	// The kept message can be read whole: its body is what would have been sent.
	want, err := RenderMessage(e.message("c1"))
	if err != nil || list[0].Body != want.Text || want.Text == "" {
		t.Errorf("kept body %q, want %q (%v)", list[0].Body, want.Text, err)
	}
}

func TestRejectedThenRetriedWithBackoff(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	mail.SetReject(true)
	e.enqueue(e.message("c1"))
	start := e.clock()

	e.run()
	r, j := e.row("c1"), e.job("c1")
	if r.Status != "pending" || r.Attempts != 1 || !strings.Contains(r.LastError, "451") ||
		j.State != "retryable" || !j.ScheduledAt.Equal(start.Add(30*time.Second)) {
		t.Fatalf("after a rejection: %+v, job %+v", r, j)
	}
	e.advance(29 * time.Second)
	if n := e.run(); n != 0 {
		t.Fatalf("retried before its backoff")
	}
	e.advance(time.Second)
	e.run() // rejected again: next wait doubles
	r, j = e.row("c1"), e.job("c1")
	if r.Attempts != 2 || j.Attempt != 2 || !j.ScheduledAt.Equal(e.clock().Add(time.Minute)) {
		t.Fatalf("second rejection: %+v, job %+v", r, j)
	}

	mail.SetReject(false) // the server recovers
	e.advance(time.Minute)
	if n := e.run(); n != 1 {
		t.Fatalf("handled %d after recovery", n)
	}
	r = e.row("c1")
	if r.Status != "sent" || r.Attempts != 3 || r.SentAt == nil {
		t.Errorf("after recovery: %+v", r)
	}
	if got := mail.Messages(); len(got) != 1 {
		t.Errorf("%d emails", len(got))
	}
}

func TestServerDownThenFailed(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there: connection refused
	e := newEnv(t, "smtp://"+addr)
	e.enqueue(e.message("c1"))
	for i := 1; i <= MaxAttempts; i++ {
		if n := e.run(); n != 1 {
			t.Fatalf("attempt %d: handled %d", i, n)
		}
		r, j := e.row("c1"), e.job("c1")
		if r.Attempts != i || j.Attempt != i || !strings.Contains(r.LastError, "refused") {
			t.Fatalf("attempt %d: %+v, job %+v", i, r, j)
		}
		if i < MaxAttempts && (r.Status != "pending" || !j.ScheduledAt.Equal(e.clock().Add(Backoff(i)))) {
			t.Fatalf("attempt %d: %+v, job %+v", i, r, j)
		}
		e.advance(Backoff(i))
	}
	if r := e.row("c1"); r.Status != "failed" {
		t.Fatalf("after %d attempts: %+v", MaxAttempts, r)
	}
	e.advance(24 * time.Hour)
	if n := e.run(); n != 0 {
		t.Errorf("a failed message was tried again")
	}
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

// A message whose job runs again (River rescues the job of a process that
// died after recording the send, or two jobs for one message): sent once.
func TestAJobRunAgainSendsNothing(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	e.enqueue(e.message("c1"))
	if n := e.run(); n != 1 {
		t.Fatalf("handled %d", n)
	}
	var jobID int64
	if err := e.db.Get(&jobID, `SELECT job_id FROM notifications WHERE cause_key = 'c1'`); err != nil {
		t.Fatal(err)
	}
	c, err := jobs.InsertOnly(e.db.DB)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.JobRetry(context.Background(), jobID); err != nil { // as River's rescuer would
		t.Fatal(err)
	}
	if n := e.run(); n != 1 {
		t.Fatalf("the job run again: handled %d", n)
	}
	if r, j := e.row("c1"), e.job("c1"); r.Status != "sent" || r.Attempts != 1 || j.State != "completed" {
		t.Errorf("after the second run: %+v, job %+v", r, j)
	}
	if got := mail.Messages(); len(got) != 1 {
		t.Errorf("%d emails for one message", len(got))
	}
}

// A message the previous release's dispatcher claimed (during a rolling
// deploy) is left to it until the claim lapses; then sent once.
func TestPreviousReleasesClaimIsWaitedOut(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	e.enqueue(e.message("c1"))
	if _, err := e.db.Exec(`UPDATE notifications SET claimed_until = $1 WHERE cause_key = 'c1'`,
		e.clock().Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	e.run()
	// Snoozed for the claim's two minutes (River dates a snooze by its own clock).
	if r, j := e.row("c1"), e.job("c1"); r.Status != "pending" || r.Attempts != 0 || j.State != "scheduled" ||
		j.ScheduledAt.Before(time.Now().Add(time.Minute)) || j.ScheduledAt.After(e.clock().Add(2*time.Minute)) || len(mail.Messages()) != 0 {
		t.Fatalf("under a live claim: %+v, job %+v, %d emails", r, j, len(mail.Messages()))
	}
	e.advance(2 * time.Minute) // that process died: its claim lapsed
	if n := e.run(); n != 1 {
		t.Fatalf("handled %d", n)
	}
	if n := e.run(); n != 0 {
		t.Fatalf("handled again")
	}
	if r := e.row("c1"); r.Status != "sent" || len(mail.Messages()) != 1 {
		t.Errorf("row %+v, %d emails", r, len(mail.Messages()))
	}
}

// Rows the previous release wrote have no job: Adopt gives them one (once,
// held ones held until their time), and they are sent.
func TestRowsWithoutAJobAreAdopted(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	data, _ := json.Marshal(Documented[AnomalyOpenedClient])
	held := e.clock().Add(15 * time.Minute)
	for i := range 5 {
		var notBefore *time.Time
		if i == 4 {
			notBefore = &held
		}
		// As the previous release's Enqueue writes them.
		if _, err := e.db.Exec(`INSERT INTO notifications (coach_id, cause_key, template, locale, recipient, data, not_before)
			VALUES ($1, $2, $3, 'fr', 'lea@example.com', $4, $5)`, e.coachID, fmt.Sprintf("old%d", i), AnomalyOpenedClient,
			data, notBefore); err != nil {
			t.Fatal(err)
		}
	}
	e.enqueue(e.message("new")) // this release's: it has its job
	if n, err := AdoptIn(context.Background(), e.db, 2); err != nil || n != 5 {
		t.Fatalf("adopted %d, %v", n, err)
	}
	if n, err := Adopt(context.Background(), e.db); err != nil || n != 0 {
		t.Fatalf("adopted again %d, %v", n, err)
	}
	if n := e.count(`SELECT count(*) FROM river_job WHERE kind = 'notify.send'`); n != 6 {
		t.Fatalf("%d jobs for 6 messages", n)
	}
	if j := e.job("old4"); !j.ScheduledAt.Equal(held) {
		t.Errorf("the held message's job is due %v, want %v", j.ScheduledAt, held)
	}
	if n := e.run(); n != 5 {
		t.Fatalf("sent %d of the 5 due", n)
	}
	e.advance(15 * time.Minute)
	if n := e.run(); n != 1 {
		t.Fatalf("the held message: handled %d", n)
	}
	if n := e.count(`SELECT count(*) FROM notifications WHERE status = 'sent'`); n != 6 || len(mail.Messages()) != 6 {
		t.Errorf("%d sent, %d emails, want 6", n, len(mail.Messages()))
	}

	// A job River gave up on while the database failed it every time (no
	// outcome recorded, as River leaves it): its message gets a new job.
	e.enqueue(e.message("stuck"))
	if _, err := e.db.Exec(`UPDATE river_job SET state = 'discarded', finalized_at = now(), attempt = max_attempts
		WHERE id = (SELECT job_id FROM notifications WHERE cause_key = 'stuck')`); err != nil {
		t.Fatal(err)
	}
	if n, err := Adopt(context.Background(), e.db); err != nil || n != 1 {
		t.Fatalf("re-adopted %d, %v", n, err)
	}
	if n := e.run(); n != 1 || e.row("stuck").Status != "sent" || len(mail.Messages()) != 7 {
		t.Errorf("the re-adopted message: handled %d, %+v, %d emails", n, e.row("stuck"), len(mail.Messages()))
	}
}

// The send jobs the outbox writes in its own statements (Enqueue, Adopt)
// are the rows River's InsertManyTx writes for the same arguments, held or
// not: River works them as its own. A River upgrade that changes its row
// fails here.
func TestSendJobsAreRiversOwn(t *testing.T) {
	e := newEnv(t, "")
	held := e.clock().Add(time.Hour)
	later := e.message("held")
	later.NotBefore = held
	data, _ := json.Marshal(Documented[AnomalyOpenedClient])
	ctx := context.Background()
	err := db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
		for _, m := range []Message{e.message("now"), later} {
			if err := Enqueue(ctx, tx, m); err != nil {
				return err
			}
		}
		// As the previous release wrote it, with no job: Adopt gives it one.
		_, err := tx.Exec(`INSERT INTO notifications (coach_id, cause_key, template, locale, recipient, data, not_before)
			VALUES ($1, 'old', $2, 'fr', 'lea@example.com', $3, $4)`, e.coachID, AnomalyOpenedClient, data, held)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := Adopt(ctx, e.db); err != nil || n != 1 {
		t.Fatalf("adopted %d, %v", n, err)
	}
	// A job row as JSON, without its id and the moment of its insert (its
	// transaction's): due then, or at the hold.
	riverOwn, err := jobs.InsertOnly(e.db.DB) // River inserting the same jobs, to compare
	if err != nil {
		t.Fatal(err)
	}
	const jobRow = `SELECT (to_jsonb(j) - 'id' - 'created_at' - 'scheduled_at' || jsonb_build_object('due',
		CASE WHEN scheduled_at = created_at THEN 'at its insert' ELSE scheduled_at::text END))::text FROM river_job j WHERE `
	for _, c := range []struct {
		cause string
		hold  *time.Time
	}{{"now", nil}, {"held", &held}, {"old", &held}} {
		var ours, rivers string
		err := db.InTx(ctx, e.db, func(tx *sqlx.Tx) error {
			var id int64
			if err := tx.Get(&id, `SELECT id FROM notifications WHERE cause_key = $1`, c.cause); err != nil {
				return err
			}
			if err := tx.Get(&ours, jobRow+`id = (SELECT job_id FROM notifications WHERE id = $1)`, id); err != nil {
				return err
			}
			p := river.InsertManyParams{Args: SendArgs{ID: id}}
			if c.hold != nil {
				p.InsertOpts = &river.InsertOpts{ScheduledAt: *c.hold}
			}
			res, err := riverOwn.InsertManyTx(ctx, tx.Tx, []river.InsertManyParams{p})
			if err != nil {
				return err
			}
			if err := tx.Get(&rivers, jobRow+`id = $1`, res[0].Job.ID); err != nil {
				return err
			}
			return errRollback // River's job is only compared
		})
		if !errors.Is(err, errRollback) {
			t.Fatal(err)
		}
		if ours != rivers {
			t.Errorf("%s: the outbox's job\n  %s\nRiver's\n  %s", c.cause, ours, rivers)
		}
	}
}

var errRollback = errors.New("rolled back")

// withExcess is m with its facts grown: another excess.
func withExcess(m Message, excess string) Message {
	m.Data = maps.Clone(m.Data)
	m.Data["Excess"] = excess
	return m
}

// A held message waits for its time, and says what its data says then.
func TestHeldMessageSaysTheRevisedFacts(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	m := e.message("anomaly:7:opened:client")
	m.NotBefore = e.clock().Add(15 * time.Minute)
	e.enqueue(m)
	if n := e.run(); n != 0 {
		t.Fatalf("a held message was handled (%d)", n)
	}
	revised := withExcess(m, "300,00 €")
	err := db.InTx(context.Background(), e.db, func(tx *sqlx.Tx) error {
		return Revise(context.Background(), tx, revised, "anomaly:7:updated:", e.clock())
	})
	if err != nil {
		t.Fatal(err)
	}
	e.advance(15 * time.Minute)
	if n := e.run(); n != 1 {
		t.Fatalf("handled %d after the hold", n)
	}
	got := mail.Messages()
	if len(got) != 1 || !strings.Contains(got[0].Body, "300,00") || strings.Contains(got[0].Body, m.Data["Excess"].(string)) {
		t.Fatalf("%d emails; the one sent:\n%s", len(got), got[0].Body)
	}
	if n := e.count(`SELECT count(*) FROM notifications`); n != 1 {
		t.Errorf("%d messages: a revision of a waiting message is no second message", n)
	}
}

func TestRolledBackSendsNothing(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	err := db.InTx(context.Background(), e.db, func(tx *sqlx.Tx) error {
		if err := Enqueue(context.Background(), tx, e.message("c1")); err != nil {
			return err
		}
		return fmt.Errorf("the change failed")
	})
	if err == nil {
		t.Fatal("want the transaction's error")
	}
	if n := e.run(); n != 0 || e.count(`SELECT count(*) FROM notifications`) != 0 ||
		e.count(`SELECT count(*) FROM river_job`) != 0 || len(mail.Messages()) != 0 {
		t.Errorf("a rolled-back message exists: run %d", n)
	}
}

func TestEnqueueChecks(t *testing.T) {
	e := newEnv(t, "")
	bad := []Message{
		{CoachID: e.coachID, Cause: "c", Template: "pack_bought", Locale: "fr", To: "a@example.com", Data: Documented[PackPurchased]},
		{CoachID: e.coachID, Cause: "c", Template: PackPurchased, Locale: "fr", To: "a@example.com", Data: map[string]any{"ClientName": "x"}},
		{CoachID: e.coachID, Cause: "", Template: PackPurchased, Locale: "fr", To: "a@example.com", Data: Documented[PackPurchased]},
		{CoachID: e.coachID, Cause: "c", Template: PackPurchased, Locale: "fr", To: "", Data: Documented[PackPurchased]},
	}
	for i, m := range bad {
		err := db.InTx(context.Background(), e.db, func(tx *sqlx.Tx) error { return Enqueue(context.Background(), tx, m) })
		if err == nil {
			t.Errorf("case %d: accepted %+v", i, m)
		}
	}
	e.enqueue(Message{CoachID: e.coachID, Cause: "de", Template: PackPurchased, Locale: "de", To: "a@example.com",
		Data: Documented[PackPurchased]})
	if r := e.row("de"); r.Locale != "fr" {
		t.Errorf("an unknown locale is stored as %q", r.Locale)
	}
}

// Two processes' River clients on one outbox, each message with a second
// job beside its own (as a rescue would leave): every message sent once.
func TestTwoRiverClientsSendEachMessageOnce(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	e.d.Now = nil // River's own clock: real time
	var ms []Message
	for i := range 30 {
		ms = append(ms, e.message(fmt.Sprintf("c%d", i)))
	}
	e.enqueue(ms...)
	var ids []int64
	if err := e.db.Select(&ids, `SELECT id FROM notifications ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	err := db.InTx(context.Background(), e.db, func(tx *sqlx.Tx) error {
		var params []river.InsertManyParams
		for _, id := range ids {
			params = append(params, river.InsertManyParams{Args: SendArgs{ID: id}})
		}
		c, err := jobs.InsertOnly(e.db.DB)
		if err != nil {
			return err
		}
		_, err = c.InsertManyTx(context.Background(), tx.Tx, params)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for range 2 {
		workers := river.NewWorkers()
		river.AddWorker(workers, &SendWorker{Dispatcher: e.dispatcher(mail.URL("smtp"))})
		c, err := jobs.New(e.db.DB, log, workers, nil, map[string]river.QueueConfig{Queue: QueueConfig})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Stop(context.Background()) })
	}
	// Wait for the condition, not for a time: every job finished.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if e.count(`SELECT count(*) FROM river_job WHERE kind = 'notify.send' AND state <> 'completed'`) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("jobs left: %d", e.count(`SELECT count(*) FROM river_job WHERE state <> 'completed'`))
		}
	}
	got := mail.Messages()
	seen := map[string]bool{}
	for _, m := range got {
		id := m.Header.Get("Message-ID")
		if seen[id] {
			t.Errorf("sent twice: %s", id)
		}
		seen[id] = true
	}
	if n := e.count(`SELECT count(*) FROM notifications WHERE status = 'sent' AND attempts = 1`); n != 30 || len(got) != 30 {
		t.Errorf("%d rows sent once, %d emails received, want 30", n, len(got))
	}
}

func TestAuthAndTLS(t *testing.T) {
	for _, c := range []struct {
		name   string
		mode   mailtest.Mode
		scheme string
	}{{"plain auth on localhost", mailtest.PlainSMTP, "smtp"}, {"starttls", mailtest.StartTLS, "smtp"}, {"smtps", mailtest.ImplicitTLS, "smtps"}} {
		t.Run(c.name, func(t *testing.T) {
			mail, pool := mailtest.Start(t, c.mode)
			mail.SetAuth("carnet", "s3cret")
			e := newEnv(t, mail.URL(c.scheme))
			e.d.TrustRoots(pool)
			e.enqueue(e.message("c1"))
			e.run()
			if r := e.row("c1"); r.Status != "sent" || len(mail.Messages()) != 1 {
				t.Fatalf("row %+v, %d emails", r, len(mail.Messages()))
			}
			// A wrong password is a failed send, recorded and retried.
			mail.SetAuth("carnet", "changed")
			e.enqueue(e.message("c2"))
			e.run()
			if r, j := e.row("c2"), e.job("c2"); r.Status != "pending" || r.Attempts != 1 || r.LastError == "" || j.State != "retryable" {
				t.Fatalf("wrong password: %+v, job %+v", r, j)
			}
		})
	}
}

func TestListAndHandler(t *testing.T) {
	e := newEnv(t, "")
	var otherCoach int64
	if err := e.db.Get(&otherCoach, `INSERT INTO coaches (name, email, currency) VALUES ('Ana', 'ana@example.com', 'EUR')
		RETURNING id`); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		e.enqueue(e.message(fmt.Sprintf("mine%d", i)))
	}
	other := e.message("theirs")
	other.CoachID = otherCoach
	e.enqueue(other)
	e.run()

	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/v1/notifications", Handler(e.db, func(*gin.Context) int64 { return e.coachID }))
	get := func(q string) (out struct {
		Data       []Notification `json:"data"`
		NextCursor string         `json:"next_cursor"`
	}) {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/notifications"+q, nil))
		if w.Code != http.StatusOK {
			t.Fatalf("GET %s: %d %s", q, w.Code, w.Body)
		}
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	page := get("?limit=2")
	if len(page.Data) != 2 || page.NextCursor == "" || page.Data[0].ID < page.Data[1].ID {
		t.Fatalf("first page %+v", page)
	}
	rest := get("?limit=2&cursor=" + page.NextCursor)
	if len(rest.Data) != 1 || rest.NextCursor != "" || rest.Data[0].ID >= page.Data[1].ID {
		t.Fatalf("second page %+v", rest)
	}
	for _, n := range append(page.Data, rest.Data...) {
		if n.Status != "kept" || n.Subject == "" || n.Body == "" || n.Template != AnomalyOpenedClient || n.Recipient == "" {
			t.Errorf("notification %+v", n)
		}
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/v1/notifications?limit=0", nil))
	if w.Code != http.StatusBadRequest {
		t.Errorf("limit=0: %d", w.Code)
	}

	// One client's messages, as the coach's page about that client lists them.
	var lea int64
	if err := e.db.Get(&lea, `INSERT INTO clients (coach_id, name, email) VALUES ($1, 'Léa', 'lea@example.com') RETURNING id`,
		e.coachID); err != nil {
		t.Fatal(err)
	}
	about := e.message("about-lea")
	about.ClientID = &lea
	e.enqueue(about)
	mine, err := List(context.Background(), e.db, e.coachID, Query{ClientID: lea, Limit: 10})
	if err != nil || len(mine) != 1 || mine[0].ClientID == nil || *mine[0].ClientID != lea {
		t.Errorf("Léa's messages: %+v, %v", mine, err)
	}
	if theirs, err := List(context.Background(), e.db, otherCoach, Query{ClientID: lea, Limit: 10}); err != nil || len(theirs) != 0 {
		t.Errorf("another coach sees %d of Léa's messages (%v)", len(theirs), err)
	}
}

// BenchmarkOutbox measures how fast River delivers a backlog: 500 messages
// enqueued in one transaction, then one process's River client (the queue
// serve runs) sends them all to a real SMTP server. It prints messages per
// second (docs/RELIABILITY.md, "The outbox"). Run it with
// go test -run XXX -bench BenchmarkOutbox -benchtime 3x ./notify
func BenchmarkOutbox(b *testing.B) {
	const backlog = 500
	mail, _ := mailtest.Start(b, mailtest.PlainSMTP)
	d := testdb.New(b)
	var coachID int64
	if err := d.Get(&coachID, `INSERT INTO coaches (name, email, currency) VALUES ('Marc', 'marc@example.com', 'EUR') RETURNING id`); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	workers := river.NewWorkers()
	river.AddWorker(workers, &SendWorker{Dispatcher: &Dispatcher{DB: d, SMTPURL: mail.URL("smtp"), From: "carnet@example.com", Log: log}})
	client, err := jobs.New(d.DB, log, workers, nil, map[string]river.QueueConfig{Queue: QueueConfig})
	if err != nil {
		b.Fatal(err)
	}
	if err := client.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Stop(context.Background()) })
	var total time.Duration
	for i := 0; b.Loop(); i++ {
		err := db.InTx(context.Background(), d, func(tx *sqlx.Tx) error {
			for j := range backlog {
				m := Message{CoachID: coachID, Cause: fmt.Sprintf("bench:%d:%d", i, j), Template: AnomalyOpenedClient,
					Locale: "fr", To: "lea@example.com", Data: Documented[AnomalyOpenedClient]}
				if err := Enqueue(context.Background(), tx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for {
			var left int
			if err := d.Get(&left, `SELECT count(*) FROM notifications WHERE status = 'pending'`); err != nil {
				b.Fatal(err)
			}
			if left == 0 {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		total += time.Since(start)
	}
	sent := float64(b.N * backlog)
	// The sending itself, from each backlog's first send to its last: without
	// the wait for River's next poll (up to a second) before the first.
	var sending float64
	if err := d.Get(&sending, `SELECT sum(s) FROM (SELECT extract(epoch FROM max(sent_at) - min(sent_at))::float8 AS s
		FROM notifications GROUP BY split_part(cause_key, ':', 2)) per`); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(sent/total.Seconds(), "msgs/s")
	b.ReportMetric(sent/sending, "sending-msgs/s")
	b.Logf("%d messages sent in %v (%.0f a second), %.2f s of it sending (%.0f a second)",
		int(sent), total.Round(time.Millisecond), sent/total.Seconds(), sending, sent/sending)
}

// A message its job is sending (its row locked) is not rewritten under it:
// the new facts go out as an update.
func TestReviseWhileBeingSentTellsAnUpdate(t *testing.T) {
	e := newEnv(t, "")
	m := e.message("anomaly:8:opened:client")
	e.enqueue(m)
	sending, err := e.db.Beginx() // as deliver holds the row while it sends
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sending.Rollback() }()
	if _, err := sending.Exec(`SELECT id FROM notifications WHERE cause_key = $1 FOR UPDATE`, m.Cause); err != nil {
		t.Fatal(err)
	}
	revised := withExcess(m, "300,00 €")
	if err := db.InTx(context.Background(), e.db, func(tx *sqlx.Tx) error {
		return Revise(context.Background(), tx, revised, "anomaly:8:updated:", e.clock())
	}); err != nil {
		t.Fatal(err)
	}
	if err := sending.Rollback(); err != nil {
		t.Fatal(err)
	}
	var data []string
	if err := e.db.Select(&data, `SELECT data->>'Excess' FROM notifications ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(data) != 2 || data[0] != m.Data["Excess"] || data[1] != "300,00 €" {
		t.Errorf("messages' excess: %v, want the first untouched and an update", data)
	}
	if n := e.count(`SELECT count(*) FROM river_job WHERE kind = 'notify.send'`); n != 2 {
		t.Errorf("%d send jobs, want one for the update too", n)
	}
}
