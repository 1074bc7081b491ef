package notify

import "time"

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
