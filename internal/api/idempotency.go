package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/internal/failpoint"
)

const scopeKey = "carnet.scope"

// SetScope names who is calling ("coach:7"); idempotency keys live per scope.
func SetScope(c *gin.Context, scope string) { c.Set(scopeKey, scope) }

// DefaultIdempotencyWait is how long a retry waits for the first request with
// its key to finish before answering 409 "still in progress".
const DefaultIdempotencyWait = 5 * time.Second

// Idempotent honours the Idempotency-Key header on POST: a request with a key
// runs in one transaction that holds the key's row, its effects and its
// answer, committed together before the answer is written. So after a crash
// there is either nothing (PostgreSQL aborted the dead connection's work, and
// the retry runs) or both (the retry replays). A retry that arrives while
// the first run is still going waits on the first's uncommitted key row, up
// to wait, then answers 409; there is no lease to expire, so a request slower
// than any timeout never runs twice. An error answer keeps none of the
// handler's writes; a 5xx is not stored, so the retry runs again. The same
// key with another body is refused. Keys live 24 hours.
func Idempotent(d *sqlx.DB, wait time.Duration) gin.HandlerFunc {
	if wait <= 0 {
		wait = DefaultIdempotencyWait
	}
	return func(c *gin.Context) {
		key := c.GetHeader("Idempotency-Key")
		scope := c.GetString(scopeKey)
		if c.Request.Method != http.MethodPost || key == "" || scope == "" {
			c.Next()
			return
		}
		if !validKey.MatchString(key) {
			Fail(c, errs.Field("Idempotency-Key", "must be 1 to 255 printable ASCII characters"))
			return
		}
		body, err := ReadBody(c)
		if err != nil {
			Fail(c, err)
			return
		}
		h := sha256.New()
		h.Write([]byte(c.Request.Method + " " + c.Request.URL.Path + "\n"))
		h.Write(body)
		hash := h.Sum(nil)

		// The work goes on when the caller hangs up: the answer is stored
		// for its retry.
		ctx := context.WithoutCancel(c.Request.Context())
		tx, err := d.BeginTxx(ctx, nil)
		if err != nil {
			Fail(c, err)
			return
		}
		settled, orig := false, c.Writer
		defer func() {
			if !settled { // a panic: Observe answers it
				_ = tx.Rollback()
				c.Writer = orig
			}
		}()
		claimed, err := claimKey(ctx, tx, scope, key, hash, wait)
		if err != nil || !claimed {
			_ = tx.Rollback()
			settled = true
			if err != nil {
				Fail(c, err)
				return
			}
			replay(c, d, scope, key, hash)
			return
		}

		buf := &buffered{ResponseWriter: c.Writer}
		c.Writer = buf
		c.Request = c.Request.WithContext(db.WithRequestTx(c.Request.Context(), tx, db.RequestRef(scope, key, hash)))
		c.Next()
		c.Writer = buf.ResponseWriter

		status := buf.Status()
		if status >= 500 {
			_ = tx.Rollback()
			settled = true
			buf.flush()
			return
		}
		err = settle(ctx, tx, scope, key, status, buf.body.Bytes())
		settled = true
		if err != nil {
			_ = tx.Rollback()
			slog.ErrorContext(ctx, "idempotent request not committed", "err", err, "request_id", RequestID(c))
			buf.body.Reset()
			Fail(c, errs.New(errs.Internal, "internal error"))
			return
		}
		failpoint.Hit(failpoint.AfterCommit)
		buf.flush()
	}
}

// settle stores the answer with the key and commits. An error answer keeps
// none of the handler's writes (its savepoint is rolled back), which also
// clears a transaction a failed statement aborted.
func settle(ctx context.Context, tx *sqlx.Tx, scope, key string, status int, body []byte) error {
	if status >= 400 {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT carnet_request`); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE idempotency_keys SET status = $3, response = $4
		WHERE scope = $1 AND key = $2`, scope, key, status, body); err != nil {
		return err
	}
	return tx.Commit()
}

var validKey = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

// PurgeIdempotencyKeys forgets keys past their 24 hours, and claims an older
// release left unsettled for an hour (a process that died mid-request).
func PurgeIdempotencyKeys(ctx context.Context, d *sqlx.DB) (int64, error) {
	res, err := d.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'
		OR (status IS NULL AND created_at < now() - interval '1 hour')`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// claimKey inserts the key in the request's transaction; false means a
// committed row was there. A concurrent first run holds the uncommitted row:
// the insert waits for it to commit (false) or abort (true), at most wait.
func claimKey(ctx context.Context, tx *sqlx.Tx, scope, key string, hash []byte, wait time.Duration) (bool, error) {
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`SET LOCAL lock_timeout = %d`, wait.Milliseconds())); err != nil {
		return false, err
	}
	// An expired key is free again.
	if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2
		AND created_at < now() - interval '24 hours'`, scope, key); err != nil {
		return false, inProgress(err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, request_ref) VALUES ($1, $2, $3, $4)
		ON CONFLICT DO NOTHING`, scope, key, hash, db.RequestRef(scope, key, hash))
	if err != nil {
		return false, inProgress(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	// The handler's own row locks wait as long as they need (deadlocks are
	// still detected); its writes sit under a savepoint an error undoes.
	if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = DEFAULT`); err != nil {
		return false, err
	}
	_, err = tx.ExecContext(ctx, `SAVEPOINT carnet_request`)
	return err == nil, err
}

// inProgress turns a lock wait that timed out into the 409 a client retries.
func inProgress(err error) error {
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code == "55P03" {
		return errs.New(errs.Conflict, "a request with this Idempotency-Key is still in progress; retry it later")
	}
	return err
}

func replay(c *gin.Context, d *sqlx.DB, scope, key string, hash []byte) {
	var row struct {
		Hash     []byte `db:"request_hash"`
		Status   *int   `db:"status"`
		Response []byte `db:"response"`
	}
	err := d.GetContext(c.Request.Context(), &row, `SELECT request_hash, status, response
		FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key)
	switch {
	case db.NoRows(err):
		// Purged between our insert and this read: the retry runs.
		Fail(c, errs.New(errs.Conflict, "the request with this Idempotency-Key expired meanwhile; retry it"))
	case err != nil:
		Fail(c, err)
	case !bytes.Equal(row.Hash, hash):
		Fail(c, errs.New(errs.IdempotencyMismatch,
			"this Idempotency-Key was used with another request; use a new key for a new request"))
	case row.Status == nil:
		// Only an older release commits a key before its answer.
		Fail(c, errs.New(errs.Conflict, "a request with this Idempotency-Key is still in progress"))
	default:
		c.Header("Idempotent-Replayed", "true")
		c.Data(*row.Status, "application/json; charset=utf-8", row.Response)
		c.Abort()
	}
}

// buffered holds the handler's answer until its transaction commits: a
// client must never read an answer whose effects may still be rolled back.
type buffered struct {
	gin.ResponseWriter
	status int
	body   bytes.Buffer
}

func (b *buffered) WriteHeader(code int) {
	if code > 0 && b.body.Len() == 0 {
		b.status = code
	}
}

func (b *buffered) WriteHeaderNow() {
	if b.status == 0 {
		b.status = http.StatusOK
	}
}

func (b *buffered) Write(p []byte) (int, error) {
	b.WriteHeaderNow()
	return b.body.Write(p)
}

func (b *buffered) WriteString(s string) (int, error) {
	b.WriteHeaderNow()
	return b.body.WriteString(s)
}

func (b *buffered) Status() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

func (b *buffered) Size() int {
	if b.status == 0 {
		return -1
	}
	return b.body.Len()
}

func (b *buffered) Written() bool { return b.status != 0 }

func (b *buffered) Flush() {}

// flush writes the held answer to the client.
func (b *buffered) flush() {
	b.ResponseWriter.WriteHeader(b.Status())
	_, _ = b.ResponseWriter.Write(b.body.Bytes())
}
