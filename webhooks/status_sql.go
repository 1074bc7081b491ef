package webhooks

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// EndpointStatus is what the coach's settings show of Carnet's Stripe
// endpoint: when an event last arrived and when one last failed to apply.
// Events are Carnet's, not a tenant's, so only their times are shown.
type EndpointStatus struct {
	LastReceived *time.Time `db:"last_received"`
	LastFailed   *time.Time `db:"last_failed"`
}

// Status reads the endpoint's last received and last failed events.
func Status(ctx context.Context, d *sqlx.DB) (EndpointStatus, error) {
	var s EndpointStatus
	err := d.GetContext(ctx, &s, `SELECT max(received_at) AS last_received,
		max(received_at) FILTER (WHERE last_error <> '') AS last_failed FROM webhook_events`)
	return s, err
}
