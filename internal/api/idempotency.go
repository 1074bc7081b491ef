package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net/http"
	"regexp"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/riverqueue/river"

	"carnet/internal/db"
	"carnet/internal/errs"
)

const scopeKey = "carnet.scope"

// SetScope names who is calling ("coach:7"); idempotency keys live per scope.
func SetScope(c *gin.Context, scope string) { c.Set(scopeKey, scope) }

// Idempotent honours the Idempotency-Key header on POST: the first response
// is stored and replayed to every retry with the same key and body; the same
// key with another body is refused. Keys live 24 hours. A 5xx is not stored,
// so a retry after a failure runs again.
func Idempotent(d *sqlx.DB) gin.HandlerFunc {
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

		claimed, err := claimKey(c, d, scope, key, hash)
		if err != nil {
			Fail(c, err)
			return
		}
		if !claimed {
			replay(c, d, scope, key, hash)
			return
		}
		rec := &recorder{ResponseWriter: c.Writer}
		c.Writer = rec
		// Settle the key even when the caller hung up (its context is then
		// cancelled) or the handler panicked: a key left "in progress" would
		// block every retry.
		ctx := context.WithoutCancel(c.Request.Context())
		completed := false
		defer func() {
			var err error
			if completed && rec.Status() < 500 {
				_, err = d.ExecContext(ctx, `UPDATE idempotency_keys SET status = $3, response = $4
					WHERE scope = $1 AND key = $2`, scope, key, rec.Status(), rec.body.Bytes())
			} else {
				_, err = d.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key)
			}
			if err != nil {
				_ = c.Error(err)
			}
		}()
		c.Next()
		completed = true
	}
}

var validKey = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)

// PurgeIdempotencyKeys forgets keys past their 24 hours, and claims abandoned
// for an hour (a process that died mid-request).
func PurgeIdempotencyKeys(ctx context.Context, d *sqlx.DB) (int64, error) {
	res, err := d.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'
		OR (status IS NULL AND created_at < now() - interval '1 hour')`)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// claimKey inserts the key; false means it was already there.
func claimKey(c *gin.Context, d *sqlx.DB, scope, key string, hash []byte) (bool, error) {
	claimed := false
	err := db.InTx(c.Request.Context(), d, func(tx *sqlx.Tx) error {
		// An expired key is free again; so is one whose first request died
		// without settling it (a crashed process) a minute ago.
		if _, err := tx.Exec(`DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2
			AND (created_at < now() - interval '24 hours' OR (status IS NULL AND created_at < now() - interval '1 minute'))`,
			scope, key); err != nil {
			return err
		}
		res, err := tx.Exec(`INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3)
			ON CONFLICT DO NOTHING`, scope, key, hash)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	return claimed, err
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
		Fail(c, errs.New(errs.Conflict, "the request with this Idempotency-Key failed; retry it"))
	case err != nil:
		Fail(c, err)
	case !bytes.Equal(row.Hash, hash):
		Fail(c, errs.New(errs.IdempotencyMismatch,
			"this Idempotency-Key was used with another request; use a new key for a new request"))
	case row.Status == nil:
		Fail(c, errs.New(errs.Conflict, "a request with this Idempotency-Key is still in progress"))
	default:
		c.Header("Idempotent-Replayed", "true")
		c.Data(*row.Status, "application/json; charset=utf-8", row.Response)
		c.Abort()
	}
}

// recorder keeps a copy of the response body for replays.
type recorder struct {
	gin.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func (r *recorder) WriteString(s string) (int, error) {
	r.body.WriteString(s)
	return r.ResponseWriter.WriteString(s)
}

// PurgeArgs is the periodic job that runs PurgeIdempotencyKeys.
type PurgeArgs struct{}

// Kind names the job in River's table.
func (PurgeArgs) Kind() string { return "api.purge_idempotency_keys" }

// PurgeWorker forgets expired idempotency keys.
type PurgeWorker struct {
	river.WorkerDefaults[PurgeArgs]
	DB *sqlx.DB
}

// Work runs one purge.
func (w *PurgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	_, err := PurgeIdempotencyKeys(ctx, w.DB)
	return err
}
