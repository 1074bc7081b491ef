package notify

import (
	"context"

	"github.com/jmoiron/sqlx"
)

// ListForClient returns the latest messages about one of the coach's
// clients, newest first, with the text of those kept or sent.
func ListForClient(ctx context.Context, d *sqlx.DB, coachID, clientID int64, limit int) ([]Notification, error) {
	rows := []Notification{}
	err := d.SelectContext(ctx, &rows, `SELECT id, client_id, template, locale, recipient, subject, status, attempts,
		last_error, created_at, sent_at, data FROM notifications
		WHERE coach_id = $1 AND client_id = $2 ORDER BY id DESC LIMIT $3`, coachID, clientID, limit)
	for i := range rows {
		rows[i].Body = body(rows[i])
	}
	return rows, err
}
