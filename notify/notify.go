// Package notify is Carnet's outbox: a message is a row written in the same
// transaction as the change that causes it, at most one per cause, and a
// dispatcher (a River job) renders it in the client's language and sends it
// over SMTP with retries, or keeps it unsent when no SMTP server is set.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"carnet/internal/i18n"

	"github.com/jmoiron/sqlx"

	"carnet/internal/db"
)

// Message is one email to write to the outbox.
type Message struct {
	CoachID  int64  // the tenant; 0 for none
	ClientID *int64 // the client it is about, if any
	// Cause names what caused it, unique across all messages: a second
	// Enqueue with the same Cause does nothing. E.g. "anomaly:12:opened:client".
	Cause    string
	Template string // one of the template constants
	Locale   string // fr, es or en; anything else is fr
	To       string // the recipient's address
	Data     map[string]any
}

// ErrUnknownTemplate is returned for a template name this package does not have.
var ErrUnknownTemplate = errors.New("notify: unknown template")

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
	data, err := json.Marshal(m.Data)
	if err != nil {
		return fmt.Errorf("notify %s: data: %w", m.Cause, err)
	}
	// Render what the dispatcher will render (the data after its trip
	// through JSON), so a mistake shows here, in the caller's tests.
	var stored map[string]any
	if err := json.Unmarshal(data, &stored); err != nil {
		return fmt.Errorf("notify %s: data: %w", m.Cause, err)
	}
	if _, _, err := Render(m.Template, m.Locale, stored); err != nil {
		return fmt.Errorf("notify %s: %w", m.Cause, err)
	}
	var coachID *int64
	if m.CoachID != 0 {
		coachID = &m.CoachID
	}
	ref, seq := db.Effect(ctx) // set inside an idempotent request: sent once per request
	_, err = tx.ExecContext(ctx, `INSERT INTO notifications (coach_id, client_id, cause_key, template, locale, recipient, data,
		request_ref, request_seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (cause_key) DO NOTHING`,
		coachID, m.ClientID, m.Cause, m.Template, m.Locale, m.To, data, ref, seq)
	if err != nil {
		return fmt.Errorf("notify %s: %w", m.Cause, err)
	}
	return nil
}
