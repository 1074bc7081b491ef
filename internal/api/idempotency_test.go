package api_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"carnet/internal/api"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/internal/testdb"
)

// effects is a table the test handler writes to, as a store would.
type rig struct {
	t     *testing.T
	d     *sqlx.DB
	srv   *httptest.Server
	runs  atomic.Int32
	hold  chan struct{} // the first run waits here when set (see holdFirst)
	held  chan struct{} // closed once the first run wrote and waits
	once  sync.Once
	fail  atomic.Int32 // status the next run answers with, 0 for 201
	mu    sync.Mutex
	first bool
}

func newRig(t *testing.T, wait time.Duration) *rig {
	t.Helper()
	r := &rig{t: t, d: testdb.New(t), first: true}
	// The note is unique, checked at commit: a way to make a commit fail.
	if _, err := r.d.Exec(`CREATE TABLE effects (id serial PRIMARY KEY, note text NOT NULL,
		CONSTRAINT effects_note_key UNIQUE (note) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.ReleaseMode)
	g := gin.New()
	g.POST("/things", func(c *gin.Context) { api.SetScope(c, "coach:1") }, api.Idempotent(r.d, wait), r.handle)
	r.srv = httptest.NewServer(g)
	t.Cleanup(r.srv.Close)
	return r
}

// handle writes one effect through db.InTx, as every store does, then reads
// it back through db.Q, and answers with the count it sees.
func (r *rig) handle(c *gin.Context) {
	ctx := c.Request.Context()
	run := r.runs.Add(1)
	err := db.InTx(ctx, r.d, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO effects (note) VALUES ($1)`, fmt.Sprintf("%s-%d", c.GetHeader("Idempotency-Key"), run))
		return err
	})
	if err != nil {
		api.Fail(c, err)
		return
	}
	r.mu.Lock()
	first := r.first
	r.first = false
	r.mu.Unlock()
	if first && r.hold != nil {
		close(r.held)
		<-r.hold
	}
	switch r.fail.Load() {
	case 500:
		api.Fail(c, errors.New("a bug of ours")) // (a lost connection would be a 503)
		return
	case 409:
		api.Fail(c, errs.New(errs.Conflict, "refused"))
		return
	}
	var n int
	if err := db.Q(ctx, r.d).GetContext(ctx, &n, `SELECT count(*) FROM effects`); err != nil {
		api.Fail(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"effects": n})
}

// holdFirst makes the first run wait until release is called (at the
// latest when the test ends, so that a failure does not hang the server).
func (r *rig) holdFirst() (release func()) {
	r.hold, r.held = make(chan struct{}), make(chan struct{})
	release = func() { r.once.Do(func() { close(r.hold) }) }
	r.t.Cleanup(release)
	return release
}

func (r *rig) post(key string) (int, string, http.Header) {
	r.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, r.srv.URL+"/things", strings.NewReader(`{"a":1}`))
	req.Header.Set("Idempotency-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func (r *rig) effects() int {
	r.t.Helper()
	var n int
	if err := r.d.Get(&n, `SELECT count(*) FROM effects`); err != nil {
		r.t.Fatal(err)
	}
	return n
}

// A request slower than any lease, retried while it runs (and after the
// minute the previous design let a claim live), runs once: the retry waits on
// the first run's uncommitted key, then says it is still in progress; once
// the first commits, retries replay its answer.
func TestSlowRequestRetriedMeanwhileRunsOnce(t *testing.T) {
	t.Parallel()
	r := newRig(t, 300*time.Millisecond)
	release := r.holdFirst()
	type answer struct {
		status int
		body   string
	}
	firstDone := make(chan answer, 1)
	go func() {
		s, b, _ := r.post("slow-1")
		firstDone <- answer{s, b}
	}()
	<-r.held
	// The clock moves on: whatever a claim recorded is now two minutes old.
	if _, err := r.d.Exec(`UPDATE idempotency_keys SET created_at = created_at - interval '2 minutes'`); err != nil {
		t.Fatal(err)
	}
	if s, b, _ := r.post("slow-1"); s != http.StatusConflict || !strings.Contains(b, "still in progress") {
		t.Fatalf("retry during the first run: %d %s, want 409 still in progress", s, b)
	}
	if _, err := r.d.Exec(`UPDATE idempotency_keys SET created_at = created_at - interval '2 minutes'`); err != nil {
		t.Fatal(err)
	}
	release()
	first := <-firstDone
	if first.status != http.StatusCreated {
		t.Fatalf("first run: %d %s", first.status, first.body)
	}
	s, b, h := r.post("slow-1")
	if s != http.StatusCreated || b != first.body || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after the first run: %d %s (replayed %q), want its answer %s", s, b, h.Get("Idempotent-Replayed"), first.body)
	}
	if n, runs := r.effects(), r.runs.Load(); n != 1 || runs != 1 {
		t.Fatalf("%d effects from %d runs, want 1 from 1", n, runs)
	}
}

// A retry arriving while the first run finishes within the wait gets the
// first run's answer, not an error.
func TestRetryWaitsForTheFirstRun(t *testing.T) {
	t.Parallel()
	r := newRig(t, 5*time.Second)
	release := r.holdFirst()
	firstBody := make(chan string, 1)
	go func() {
		_, b, _ := r.post("wait-1")
		firstBody <- b
	}()
	<-r.held
	type answer struct {
		status int
		body   string
	}
	retried := make(chan answer, 4)
	for range 4 {
		go func() {
			s, b, _ := r.post("wait-1")
			retried <- answer{s, b}
		}()
	}
	time.Sleep(100 * time.Millisecond) // let the retries reach their wait
	release()
	want := <-firstBody
	for range 4 {
		if a := <-retried; a.status != http.StatusCreated || a.body != want {
			t.Errorf("retry: %d %s, want the first answer %s", a.status, a.body, want)
		}
	}
	if n := r.effects(); n != 1 {
		t.Fatalf("%d effects, want 1", n)
	}
}

// A 5xx keeps nothing and is not stored: the retry runs again. A 4xx keeps
// none of the handler's writes either, and is replayed.
func TestErrorAnswersKeepNothing(t *testing.T) {
	t.Parallel()
	r := newRig(t, time.Second)
	r.fail.Store(500)
	if s, _, _ := r.post("err-1"); s != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500", s)
	}
	if n := r.effects(); n != 0 {
		t.Fatalf("%d effects after a 500, want none", n)
	}
	r.fail.Store(0)
	if s, b, _ := r.post("err-1"); s != http.StatusCreated || b != `{"effects":1}` {
		t.Fatalf("retry after a 500: %d %s, want it to run", s, b)
	}
	r.fail.Store(409)
	if s, _, _ := r.post("err-2"); s != http.StatusConflict {
		t.Fatalf("status %d, want 409", s)
	}
	r.fail.Store(0)
	if s, _, h := r.post("err-2"); s != http.StatusConflict || h.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("retry after a 409: %d, want the 409 replayed", s)
	}
	if n, runs := r.effects(), r.runs.Load(); n != 1 || runs != 3 {
		t.Fatalf("%d effects from %d runs, want 1 from 3", n, runs)
	}
}

// The answer is written only once its effects are committed: a client that
// read it never sees them rolled back.
func TestAnswerFollowsCommit(t *testing.T) {
	t.Parallel()
	r := newRig(t, time.Second)
	s, b, _ := r.post("commit-1")
	if s != http.StatusCreated || b != `{"effects":1}` {
		t.Fatalf("%d %s", s, b)
	}
	var status int
	if err := r.d.Get(&status, `SELECT status FROM idempotency_keys WHERE key = 'commit-1'`); err != nil || status != 201 {
		t.Fatalf("stored answer %d %v, want 201 committed", status, err)
	}
	if n := r.effects(); n != 1 {
		t.Fatalf("%d effects", n)
	}
}

// A commit that fails answers 500, never the handler's answer: the client
// was not told of effects that are not there, and its retry runs again.
func TestCommitFailureAnswers500(t *testing.T) {
	t.Parallel()
	r := newRig(t, time.Second)
	if _, err := r.d.Exec(`INSERT INTO effects (note) VALUES ('taken-1')`); err != nil {
		t.Fatal(err)
	}
	s, b, _ := r.post("taken") // its effect, "taken-1", breaks the deferred unique constraint at commit
	if s != http.StatusInternalServerError || strings.Contains(b, "effects") {
		t.Fatalf("failed commit answered %d %s, want 500 without the handler's answer", s, b)
	}
	if _, err := r.d.Exec(`DELETE FROM effects`); err != nil {
		t.Fatal(err)
	}
	if s, b, h := r.post("taken"); s != http.StatusCreated || h.Get("Idempotent-Replayed") != "" || b != `{"effects":1}` {
		t.Fatalf("retry after a failed commit: %d %s, want it run", s, b)
	}
}

// Inside a request, a failing inner block rolls back its own part only.
func TestInTxJoinsTheRequestUnderASavepoint(t *testing.T) {
	t.Parallel()
	d := testdb.New(t)
	if _, err := d.Exec(`CREATE TABLE effects (id serial PRIMARY KEY, note text NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	tx, err := d.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	ctx := db.WithRequestTx(context.Background(), tx, "ref")
	if err := db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		_, err := tx.Exec(`INSERT INTO effects (note) VALUES ('kept')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	err = db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		if _, err := tx.Exec(`INSERT INTO effects (note) VALUES ('undone')`); err != nil {
			return err
		}
		_, err := tx.Exec(`INSERT INTO effects (id, note) VALUES (1, 'duplicate')`) // fails
		return err
	})
	if !db.IsUniqueViolation(err, "") {
		t.Fatalf("inner block: %v, want its unique violation", err)
	}
	var notes []string
	if err := db.Q(ctx, d).SelectContext(ctx, &notes, `SELECT note FROM effects ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(notes) != 1 || notes[0] != "kept" {
		t.Fatalf("request sees %v, want [kept]", notes)
	}
	var outside int
	if err := d.Get(&outside, `SELECT count(*) FROM effects`); err != nil || outside != 0 {
		t.Fatalf("outside the request: %d rows (%v), want none before it commits", outside, err)
	}
}
