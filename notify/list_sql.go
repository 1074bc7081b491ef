package notify

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// Query narrows a coach's notifications: about one client (ClientID, 0 for
// all), older than Before (an id, 0 for the newest), at most Limit.
type Query struct {
	ClientID, Before int64
	Limit            int
}

// List returns the coach's notifications q asks for, newest first, with the
// text of those kept or sent.
func List(ctx context.Context, d *sqlx.DB, coachID int64, q Query) ([]Notification, error) {
	rows := []Notification{}
	err := d.SelectContext(ctx, &rows, `SELECT id, client_id, template, locale, recipient, subject, status, attempts,
		last_error, created_at, sent_at, data FROM notifications
		WHERE coach_id = $1 AND ($2::bigint = 0 OR client_id = $2::bigint) AND ($3::bigint = 0 OR id < $3::bigint)
		ORDER BY id DESC LIMIT $4`, coachID, q.ClientID, q.Before, q.Limit)
	for i := range rows {
		rows[i].Body = body(rows[i])
	}
	return rows, err
}
