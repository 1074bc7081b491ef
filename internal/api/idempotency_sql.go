package api

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"carnet/internal/db"
	"carnet/internal/errs"
)

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

// stored is a key's row: the request it was claimed for and the answer
// kept for its retries (no status yet: an older release's run in progress).
type stored struct {
	Hash     []byte `db:"request_hash"`
	Status   *int   `db:"status"`
	Response []byte `db:"response"`
}

// storedAnswer reads what a committed key holds.
func storedAnswer(ctx context.Context, d *sqlx.DB, scope, key string) (stored, error) {
	var row stored
	err := d.GetContext(ctx, &row, `SELECT request_hash, status, response
		FROM idempotency_keys WHERE scope = $1 AND key = $2`, scope, key)
	return row, err
}
