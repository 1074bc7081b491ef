package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/errs"
)

// Querier is what both *sqlx.DB and *sqlx.Tx offer, so a read can go to the
// request's transaction when there is one.
type Querier interface {
	sqlx.ExtContext
	GetContext(ctx context.Context, dest any, query string, args ...any) error
	SelectContext(ctx context.Context, dest any, query string, args ...any) error
}

type txKey struct{}

// request is the transaction an idempotent request runs in, with the
// request's reference and a counter of the effect rows it wrote.
type request struct {
	tx  *sqlx.Tx
	ref string
	mu  sync.Mutex
	seq int
	sp  int
}

// WithRequestTx makes every db.InTx and db.Q under ctx use tx: the effects
// of the request and its stored answer then commit together. ref names the
// request in the rows it creates (see RequestRef).
func WithRequestTx(ctx context.Context, tx *sqlx.Tx, ref string) context.Context {
	return context.WithValue(ctx, txKey{}, &request{tx: tx, ref: ref})
}

// Detach is ctx without its request transaction: for work that must be
// committed before a Stripe call (a claim others must see), whatever becomes
// of the request.
func Detach(ctx context.Context) context.Context {
	return context.WithValue(ctx, txKey{}, (*request)(nil))
}

func requestOf(ctx context.Context) *request {
	r, _ := ctx.Value(txKey{}).(*request)
	return r
}

// Q is the request's transaction when ctx carries one, else d: a read after
// a write of the same request must see that write, which another connection
// would not until the request commits.
func Q(ctx context.Context, d *sqlx.DB) Querier {
	if r := requestOf(ctx); r != nil {
		return r.tx
	}
	return d
}

// RequestRef derives the reference an idempotent request's rows carry from
// its scope, key and body hash: a second application of the same request,
// even one that bypassed the key row, breaks a unique index.
func RequestRef(scope, key string, hash []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", scope, key)
	h.Write(hash)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Effect returns the reference and the sequence number the next row an
// idempotent request creates carries (NULLs outside such a request). The
// sequence follows the order the request writes its rows, the same on every
// run of the same request over the same state.
func Effect(ctx context.Context) (ref *string, seq *int) {
	r := requestOf(ctx)
	if r == nil {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	n := r.seq
	return &r.ref, &n
}

// InTx runs fn in a transaction, committed when fn returns nil. Inside an
// idempotent request it joins the request's transaction under a savepoint:
// an error rolls back fn's part only, and nothing commits before the
// request's answer is stored.
func InTx(ctx context.Context, d *sqlx.DB, fn func(tx *sqlx.Tx) error) error {
	if r := requestOf(ctx); r != nil {
		return r.savepoint(ctx, fn)
	}
	tx, err := d.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (r *request) savepoint(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
	r.mu.Lock()
	r.sp++
	name := fmt.Sprintf("carnet_sp_%d", r.sp)
	r.mu.Unlock()
	if _, err := r.tx.ExecContext(ctx, "SAVEPOINT "+name); err != nil {
		return err
	}
	if err := fn(r.tx); err != nil {
		if _, rbErr := r.tx.ExecContext(context.WithoutCancel(ctx), "ROLLBACK TO SAVEPOINT "+name); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return fmt.Errorf("%w (and rolling back: %w)", err, rbErr)
		}
		return err
	}
	_, err := r.tx.ExecContext(ctx, "RELEASE SAVEPOINT "+name)
	return err
}

// IsRequestReplay tells the unique violation of a request's reference (the
// indexes named *_request_uq): the same request was already applied.
func IsRequestReplay(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505" && strings.HasSuffix(pqErr.Constraint, "_request_uq")
}

// RequestRefOf is the reference of the idempotent request ctx runs, or "".
func RequestRefOf(ctx context.Context) string {
	if r := requestOf(ctx); r != nil {
		return r.ref
	}
	return ""
}

// LockWait bounds how long Exclusive waits for another holder.
const LockWait = 30 * time.Second

// Exclusive lets one caller at a time, across every process, work on the
// thing name and id designate, until release is called or, inside an
// idempotent request, until the request ends (its stored answer is then
// what the next caller finds). It waits at most LockWait, then answers
// conflict. Outside a request it holds a connection of its own.
func Exclusive(ctx context.Context, d *sqlx.DB, name string, id int64) (release func(), err error) {
	q, release := Querier(nil), func() {}
	if r := requestOf(ctx); r != nil {
		q = r.tx
	} else {
		tx, err := d.BeginTxx(context.WithoutCancel(ctx), nil)
		if err != nil {
			return nil, err
		}
		q, release = tx, func() { _ = tx.Rollback() }
	}
	if _, err := q.ExecContext(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, LockWait.Milliseconds())); err != nil {
		release()
		return nil, err
	}
	if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, $2))`, name, id); err != nil {
		release()
		var pqErr *pq.Error
		if errors.As(err, &pqErr) && pqErr.Code == "55P03" {
			return nil, errs.New(errs.Conflict, "%s %d is being worked on; try again", name, id)
		}
		return nil, err
	}
	if _, err := q.ExecContext(ctx, `SET LOCAL lock_timeout = DEFAULT`); err != nil {
		release()
		return nil, err
	}
	return release, nil
}
