package notify

import (
	"carnet/internal/db"
	"carnet/internal/i18n"
	"carnet/internal/jobs"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/riverqueue/river"
)

// Enqueue writes m to the outbox in the caller's transaction; it is sent only
// if that transaction commits, and at most once per m.Cause. The data must
// render (every documented key present): a missing key, an unknown template,
// an empty cause or recipient are programming errors and returned.
func Enqueue(ctx context.Context, tx *sqlx.Tx, m Message) error {
	if m.Cause == "" {
		return errors.New("notify: a message needs a cause")
	}
	if m.To == "" {
		return fmt.Errorf("notify %s: a message needs a recipient", m.Cause)
	}
	m.Locale = i18n.Norm(m.Locale)
	if m.Data == nil {
		m.Data = map[string]any{}
	}
	// Render what the dispatcher will render (the data after its trip
	// through JSON), so a mistake shows here, in the caller's tests.
	r, err := RenderMessage(m)
	if err != nil {
		return fmt.Errorf("notify %s: %w", m.Cause, err)
	}
	if _, ok := m.Data["Digest"]; !ok {
		m.Data = maps.Clone(m.Data) // the caller's map stays as it was
		m.Data["Digest"] = digest(r)
	}
	data, err := json.Marshal(m.Data)
	if err != nil {
		return fmt.Errorf("notify %s: data: %w", m.Cause, err)
	}
	var coachID *int64
	if m.CoachID != 0 {
		coachID = &m.CoachID
	}
	var notBefore *time.Time
	if !m.NotBefore.IsZero() {
		notBefore = &m.NotBefore
	}
	ref, seq := db.Effect(ctx) // set inside an idempotent request: sent once per request
	var ids []int64
	if err := tx.SelectContext(ctx, &ids, `INSERT INTO notifications (coach_id, client_id, cause_key, template, locale,
		recipient, data, request_ref, request_seq, not_before) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (cause_key) DO NOTHING RETURNING id`,
		coachID, m.ClientID, m.Cause, m.Template, m.Locale, m.To, data, ref, seq, notBefore); err != nil {
		return fmt.Errorf("notify %s: %w", m.Cause, err)
	}
	if len(ids) == 0 {
		return nil // this cause was told already
	}
	if err := queue(ctx, tx, ids, []*time.Time{notBefore}); err != nil {
		return fmt.Errorf("notify %s: %w", m.Cause, err)
	}
	return nil
}

// queue inserts the River jobs that send messages ids (each held until its
// time, if any) in tx, and names them on the rows.
func queue(ctx context.Context, tx *sqlx.Tx, ids []int64, holds []*time.Time) error {
	params := make([]river.InsertManyParams, len(ids))
	for i, id := range ids {
		params[i].Args = SendArgs{ID: id}
		if holds[i] != nil {
			params[i].InsertOpts = &river.InsertOpts{ScheduledAt: *holds[i]}
		}
	}
	res, err := jobs.InsertTx(ctx, tx.Tx, params)
	if err != nil {
		return err
	}
	jobIDs := make([]int64, len(res))
	for i, r := range res {
		jobIDs[i] = r.Job.ID
	}
	_, err = tx.ExecContext(ctx, `UPDATE notifications n SET job_id = q.job_id
		FROM unnest($1::bigint[], $2::bigint[]) AS q(id, job_id) WHERE n.id = q.id`, pq.Array(ids), pq.Array(jobIDs))
	return err
}

// Revise brings a message's facts up to date, in the caller's transaction,
// so no message states a number that differs from the rows: a message still
// waiting in the outbox (held, or not yet tried) takes m.Data as it is
// now; once it is sent or being sent, m goes out again as an update (its
// data's Updated set) under updatePrefix and the digest of what it says,
// once per distinct text, and only when it differs from the last one told.
func Revise(ctx context.Context, tx *sqlx.Tx, m Message, updatePrefix string, now time.Time) error {
	m.Locale = i18n.Norm(m.Locale)
	r, err := RenderMessage(m)
	if err != nil {
		return fmt.Errorf("notify %s: %w", m.Cause, err)
	}
	d := digest(r)
	m.Data = maps.Clone(m.Data)
	m.Data["Digest"] = d
	data, err := json.Marshal(m.Data)
	if err != nil {
		return fmt.Errorf("notify %s: data: %w", m.Cause, err)
	}
	// A row locked by its job is being sent (SKIP LOCKED passes it by); one
	// the previous release's dispatcher claimed too.
	res, err := tx.ExecContext(ctx, `UPDATE notifications SET data = $2 WHERE id = (SELECT id FROM notifications
		WHERE cause_key = $1 AND status = 'pending' AND attempts = 0 AND (claimed_until IS NULL OR claimed_until < $3)
		FOR UPDATE SKIP LOCKED)`, m.Cause, data, now)
	if err != nil {
		return fmt.Errorf("notify %s: %w", m.Cause, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	var last []string
	if err := tx.SelectContext(ctx, &last, `SELECT coalesce(data->>'Digest', '') FROM notifications
		WHERE cause_key = $1 OR left(cause_key, length($2)) = $2 ORDER BY id DESC LIMIT 1`, m.Cause, updatePrefix); err != nil {
		return fmt.Errorf("notify %s: %w", m.Cause, err)
	}
	if len(last) == 0 || last[0] == d {
		return nil // never told (the caller enqueues), or told this very text
	}
	m.Cause = updatePrefix + d
	m.Data["Updated"] = true
	return Enqueue(ctx, tx, m)
}
