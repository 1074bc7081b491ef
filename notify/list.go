package notify

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"carnet/internal/api"
)

// Notification is an outbox row as a coach sees it.
type Notification struct {
	ID        int64      `db:"id" json:"id"`
	ClientID  *int64     `db:"client_id" json:"client_id"`
	Template  string     `db:"template" json:"template"`
	Locale    string     `db:"locale" json:"locale"`
	Recipient string     `db:"recipient" json:"recipient"`
	Subject   string     `db:"subject" json:"subject"` // empty until dispatched
	Status    string     `db:"status" json:"status"`   // pending, sent, kept or failed
	Attempts  int        `db:"attempts" json:"attempts"`
	LastError string     `db:"last_error" json:"last_error,omitempty"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	SentAt    *time.Time `db:"sent_at" json:"sent_at"`
	// Body is the text of a kept or sent message, rendered again from its
	// data: without SMTP_URL this is the only place the message can be read.
	Body string `db:"-" json:"body,omitempty"`
	Data []byte `db:"data" json:"-"`
}

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

// body renders a kept or sent message as the dispatcher did; a message that
// was never rendered (pending, failed) has none.
func body(n Notification) string {
	if n.Status != "kept" && n.Status != "sent" {
		return ""
	}
	r, err := renderStored(n.Template, n.Locale, n.Data)
	if err != nil {
		return ""
	}
	return r.Text
}

// Handler serves GET /v1/notifications (?limit=1..100, ?cursor=) for the
// coach coachIDOf authenticates, in the shape of every list.
func Handler(d *sqlx.DB, coachIDOf func(*gin.Context) int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := api.ParsePage(c)
		if err != nil {
			api.Fail(c, err)
			return
		}
		rows, err := list(c.Request.Context(), d, coachIDOf(c), p.After, p.Limit+1)
		if err != nil {
			api.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, api.NewList(rows, p.Limit, func(n Notification) int64 { return n.ID }))
	}
}
