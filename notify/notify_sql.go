package notify

import (
	"carnet/internal/db"
	"carnet/internal/i18n"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/jmoiron/sqlx"
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
	// One statement: the row takes its job's id from River's sequence and
	// the job is inserted only if the row was (a cause told already adds
	// neither), where an insert, River's insert and an update naming the
	// job on the row were three round trips and two versions of the row.
	if _, err := tx.ExecContext(ctx, `WITH queued AS (INSERT INTO notifications (coach_id, client_id, cause_key, template,
		locale, recipient, data, request_ref, request_seq, not_before, job_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, nextval('river_job_id_seq'))
		ON CONFLICT (cause_key) DO NOTHING RETURNING id, job_id, not_before AS hold)
	`+insertSendJobs("queued", 11), append([]any{coachID, m.ClientID, m.Cause, m.Template, m.Locale, m.To, data, ref, seq,
		notBefore}, sendJobArgs()...)...); err != nil {
		return fmt.Errorf("notify %s: %w", m.Cause, err)
	}
	return nil
}

// insertSendJobs is the INSERT of the River jobs (SendArgs) that send the
// messages of from, a relation of (id, job_id, hold), with its parameters
// (sendJobArgs) from $first: the row River's own InsertManyTx writes for
// SendArgs{ID: id} with ScheduledAt hold when set (TestSendJobsAreRiversOwn
// compares them), written in the caller's statement so that the message's
// row can carry its job's id from the start. River's notification of new
// jobs is left out: every Carnet process polls (jobs.New).
func insertSendJobs(from string, first int) string {
	p := func(i int) string { return fmt.Sprintf("$%d", first+i) }
	return `INSERT INTO river_job (id, args, kind, max_attempts, priority, queue, scheduled_at, state, tags, metadata)
		SELECT job_id, jsonb_build_object('id', id), ` + p(0) + `::text, ` + p(1) + `::smallint, ` + p(2) + `::smallint, ` + p(3) + `::text,
			coalesce(hold, now()), CASE WHEN hold IS NULL THEN 'available' ELSE 'scheduled' END::river_job_state,
			'{}'::varchar(255)[], '{}'::jsonb
		FROM ` + from
}

func sendJobArgs() []any {
	o := SendArgs{}.InsertOpts()
	return []any{SendArgs{}.Kind(), o.MaxAttempts, river.PriorityDefault, o.Queue}
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
