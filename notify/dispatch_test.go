package notify

import (
	"carnet/internal/mailtest"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
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
	"carnet/internal/testdb"
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
	// new rows: what is enqueued is due at once.
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
		To: "Léa <lea@example.com>", Data: documented[AnomalyOpenedClient]}
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

func (e *env) run() int {
	e.t.Helper()
	n, err := e.d.runOnce(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

type row struct {
	Status        string     `db:"status"`
	Subject       string     `db:"subject"`
	Attempts      int        `db:"attempts"`
	LastError     string     `db:"last_error"`
	NextAttemptAt time.Time  `db:"next_attempt_at"`
	ClaimedUntil  *time.Time `db:"claimed_until"`
	SentAt        *time.Time `db:"sent_at"`
	Locale        string     `db:"locale"`
}

func (e *env) row(cause string) row {
	e.t.Helper()
	var r row
	if err := e.db.Get(&r, `SELECT status, subject, attempts, last_error, next_attempt_at, claimed_until, sent_at, locale
		FROM notifications WHERE cause_key = $1`, cause); err != nil {
		e.t.Fatal(err)
	}
	return r
}

func (e *env) count() int {
	e.t.Helper()
	var n int
	if err := e.db.Get(&n, `SELECT count(*) FROM notifications`); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestOncePerCause(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	e.enqueue(e.message("anomaly:1:opened:client"), e.message("anomaly:1:opened:client")) // twice in one tx
	e.enqueue(e.message("anomaly:1:opened:client"))                                       // and again later
	if n := e.count(); n != 1 {
		t.Fatalf("%d rows for one cause", n)
	}
	if n := e.run(); n != 1 {
		t.Fatalf("runOnce handled %d", n)
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
	if r.Status != "sent" || r.SentAt == nil || !r.SentAt.Equal(e.clock()) || r.Attempts != 1 || r.ClaimedUntil != nil {
		t.Errorf("row after send: %+v", r)
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
	again, _ := e.dispatcher("").messageID(context.Background(), "anomaly:1:opened:client")
	other, _ := e.d.messageID(context.Background(), "anomaly:2:opened:client")
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
	if r.Status != "kept" || !strings.Contains(r.Subject, "Un problème sur votre paiement") || r.SentAt != nil || r.ClaimedUntil != nil {
		t.Errorf("kept row %+v", r)
	}
	if n := e.run(); n != 0 {
		t.Errorf("a kept message was handled again")
	}
	if len(mail.Messages()) != 0 {
		t.Errorf("kept mode sent mail")
	}
	list, err := List(context.Background(), e.db, e.coachID, 10)
	if err != nil || len(list) != 1 || list[0].Status != "kept" || list[0].Subject != r.Subject {
		t.Fatalf("List = %+v, %v", list, err)
	}
	// The kept message can be read whole: its body is what would have been sent.
	var data map[string]any
	js, _ := json.Marshal(documented[AnomalyOpenedClient])
	_ = json.Unmarshal(js, &data)
	if _, want, _ := Render(AnomalyOpenedClient, "fr", data); list[0].Body != want || want == "" {
		t.Errorf("kept body %q, want %q", list[0].Body, want)
	}
}

func TestRejectedThenRetriedWithBackoff(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	mail.SetReject(true)
	e.enqueue(e.message("c1"))
	start := e.clock()

	e.run()
	r := e.row("c1")
	if r.Status != "pending" || r.Attempts != 1 || !strings.Contains(r.LastError, "451") ||
		!r.NextAttemptAt.Equal(start.Add(30*time.Second)) || r.ClaimedUntil != nil {
		t.Fatalf("after a rejection: %+v", r)
	}
	e.advance(29 * time.Second)
	if n := e.run(); n != 0 {
		t.Fatalf("retried before its backoff")
	}
	e.advance(time.Second)
	e.run() // rejected again: next wait doubles
	r = e.row("c1")
	if r.Attempts != 2 || !r.NextAttemptAt.Equal(e.clock().Add(time.Minute)) {
		t.Fatalf("second rejection: %+v", r)
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
		r := e.row("c1")
		if r.Attempts != i || !strings.Contains(r.LastError, "refused") {
			t.Fatalf("attempt %d: %+v", i, r)
		}
		if i < MaxAttempts && (r.Status != "pending" || !r.NextAttemptAt.Equal(e.clock().Add(Backoff(i)))) {
			t.Fatalf("attempt %d: %+v", i, r)
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

// A process that claimed a message and died: the claim holds others off
// until it lapses, then the message is sent once.
func TestCrashedClaimIsSentOnce(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	e.enqueue(e.message("c1"))
	claim, ok, err := e.d.claim(context.Background()) // the claim commits...
	if err != nil || !ok || !claim.ClaimedUntil.Equal(e.clock().Add(ClaimFor)) {
		t.Fatalf("claim %+v %v %v", claim, ok, err)
	}
	// ...and the process dies before sending.
	other := e.dispatcher(mail.URL("smtp"))
	if n, _ := other.runOnce(context.Background()); n != 0 {
		t.Fatalf("a live claim was taken over")
	}
	e.advance(ClaimFor + time.Second)
	if n, _ := other.runOnce(context.Background()); n != 1 {
		t.Fatalf("the lapsed claim was not taken over")
	}
	if n, _ := other.runOnce(context.Background()); n != 0 {
		t.Fatalf("sent twice")
	}
	// The dead process's claim cannot record anything any more.
	if err := e.d.finish(context.Background(), claim, "sent", "late", ""); err != nil {
		t.Fatal(err)
	}
	if r := e.row("c1"); r.Status != "sent" || r.Subject == "late" {
		t.Errorf("row %+v", r)
	}

	// As the brief puts it: a pending row whose claim is in the past.
	e.enqueue(e.message("c2"))
	if _, err := e.db.Exec(`UPDATE notifications SET claimed_until = $1 WHERE cause_key = 'c2'`,
		e.clock().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if n := e.run(); n != 1 {
		t.Fatalf("handled %d", n)
	}
	if n := e.run(); n != 0 {
		t.Fatalf("handled again")
	}
	if got := mail.Messages(); len(got) != 2 {
		t.Errorf("%d emails for 2 causes", len(got))
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
	if n := e.run(); n != 0 || e.count() != 0 || len(mail.Messages()) != 0 {
		t.Errorf("a rolled-back message exists: run %d, rows %d", n, e.count())
	}
}

func TestEnqueueChecks(t *testing.T) {
	e := newEnv(t, "")
	bad := []Message{
		{CoachID: e.coachID, Cause: "c", Template: "pack_bought", Locale: "fr", To: "a@example.com", Data: documented[PackPurchased]},
		{CoachID: e.coachID, Cause: "c", Template: PackPurchased, Locale: "fr", To: "a@example.com", Data: map[string]any{"ClientName": "x"}},
		{CoachID: e.coachID, Cause: "", Template: PackPurchased, Locale: "fr", To: "a@example.com", Data: documented[PackPurchased]},
		{CoachID: e.coachID, Cause: "c", Template: PackPurchased, Locale: "fr", To: "", Data: documented[PackPurchased]},
	}
	for i, m := range bad {
		err := db.InTx(context.Background(), e.db, func(tx *sqlx.Tx) error { return Enqueue(context.Background(), tx, m) })
		if err == nil {
			t.Errorf("case %d: accepted %+v", i, m)
		}
	}
	e.enqueue(Message{CoachID: e.coachID, Cause: "de", Template: PackPurchased, Locale: "de", To: "a@example.com",
		Data: documented[PackPurchased]})
	if r := e.row("de"); r.Locale != "fr" {
		t.Errorf("an unknown locale is stored as %q", r.Locale)
	}
}

// Several dispatchers (processes) on one outbox: every message once.
func TestConcurrentDispatchers(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	var ms []Message
	for i := range 30 {
		ms = append(ms, e.message(fmt.Sprintf("c%d", i)))
	}
	e.enqueue(ms...)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		wg.Go(func() {
			d := e.dispatcher(mail.URL("smtp"))
			for {
				n, err := d.runOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
				if n == 0 {
					return
				}
			}
		})
	}
	wg.Wait()
	got := mail.Messages()
	seen := map[string]bool{}
	for _, m := range got {
		id := m.Header.Get("Message-ID")
		if seen[id] {
			t.Errorf("sent twice: %s", id)
		}
		seen[id] = true
	}
	if total != 30 || len(got) != 30 {
		t.Errorf("handled %d, mailtest.Received %d, want 30", total, len(got))
	}
}

// The River worker drains everything due, however many runs it takes.
func TestWorkerDrains(t *testing.T) {
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	e := newEnv(t, mail.URL("smtp"))
	var ms []Message
	for i := range batchMax + 5 {
		ms = append(ms, e.message(fmt.Sprintf("c%d", i)))
	}
	e.enqueue(ms...)
	w := &DispatchWorker{Dispatcher: e.d}
	if err := w.Work(context.Background(), &river.Job[DispatchArgs]{}); err != nil {
		t.Fatal(err)
	}
	if got := len(mail.Messages()); got != batchMax+5 {
		t.Errorf("worker sent %d", got)
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
			e.d.rootCAs = pool
			e.enqueue(e.message("c1"))
			e.run()
			if r := e.row("c1"); r.Status != "sent" || len(mail.Messages()) != 1 {
				t.Fatalf("row %+v, %d emails", r, len(mail.Messages()))
			}
			// A wrong password is a failed send, recorded and retried.
			mail.SetAuth("carnet", "changed")
			e.enqueue(e.message("c2"))
			e.run()
			if r := e.row("c2"); r.Status != "pending" || r.Attempts != 1 || r.LastError == "" {
				t.Fatalf("wrong password: %+v", r)
			}
		})
	}
}

func TestParseSMTPURL(t *testing.T) {
	for raw, want := range map[string]smtpTarget{
		"smtp://mail.example.com":              {addr: "mail.example.com:25", host: "mail.example.com"},
		"smtp://u:p%40ss@mail.example.com:587": {addr: "mail.example.com:587", host: "mail.example.com", user: "u", password: "p@ss"},
		"smtps://u:p@mail.example.com":         {addr: "mail.example.com:465", host: "mail.example.com", implicitTLS: true, user: "u", password: "p"},
	} {
		got, err := parseSMTPURL(raw)
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v", raw, got, err)
		}
	}
	for _, raw := range []string{"http://x", "smtp://", "smtp://u:p@[bad"} {
		if err := CheckSMTPURL(raw); err == nil {
			t.Errorf("%s accepted", raw)
		} else if strings.Contains(err.Error(), ":p@") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestCheckSMTPURLAcceptsEmpty(t *testing.T) {
	if err := CheckSMTPURL(""); err != nil {
		t.Error(err)
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
}
