package notify

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// List returns the coach's latest notifications, newest first.
func List(ctx context.Context, d *sqlx.DB, coachID int64, limit int) ([]Notification, error) {
	return list(ctx, d, coachID, 0, limit)
}

// list returns up to limit notifications older than before (0: the newest).
func list(ctx context.Context, d *sqlx.DB, coachID, before int64, limit int) ([]Notification, error) {
	rows := []Notification{}
	err := d.SelectContext(ctx, &rows, `SELECT id, client_id, template, locale, recipient, subject, status, attempts,
		last_error, created_at, sent_at, data FROM notifications
		WHERE coach_id = $1 AND ($2::bigint = 0 OR id < $2::bigint) ORDER BY id DESC LIMIT $3`, coachID, before, limit)
	for i := range rows {
		rows[i].Body = body(rows[i])
	}
	return rows, err
}
