// Package notify is Carnet's outbox: a message is a row written in the same
// transaction as the change that causes it, at most one per cause, with a
// River job inserted beside it that renders it in the reader's language and
// sends it over SMTP (River retries with back-off), or keeps it unsent when
// no SMTP server is set.
package notify

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"time"

	"carnet/internal/i18n"
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
	// NotBefore holds the message until then (zero: due at once); the
	// facts it states may still be revised until it goes (Revise).
	NotBefore time.Time
}

// ErrUnknownTemplate is returned for a template name this package does not have.
var ErrUnknownTemplate = errors.New("notify: unknown template")

// digest names what a message says (its subject and text), so that a
// revision that changes nothing the reader sees is no news.
func digest(r Rendered) string {
	h := sha256.Sum256([]byte(r.Subject + "\n" + r.Text))
	return hex.EncodeToString(h[:8])
}

//go:embed words
var wordsFS embed.FS

// Words are the pieces messages are built from (an anomaly's kind, the
// labels and values of its facts table), in every locale.
var Words = i18n.MustCatalog(wordsFS, "words")
