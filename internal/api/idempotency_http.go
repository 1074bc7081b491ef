package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"log/slog"
	"net/http"
	"regexp"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

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

var validKey = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

func replay(c *gin.Context, d *sqlx.DB, scope, key string, hash []byte) {
	row, err := storedAnswer(c.Request.Context(), d, scope, key)
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
