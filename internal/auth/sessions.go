package auth

import (
	"time"

	"carnet/internal/errs"
)

// How long a sign-in link and a browser session live.
const (
	SignInTTL  = 15 * time.Minute
	SessionTTL = 14 * 24 * time.Hour
)

// Session methods: how a browser session was opened.
const (
	ByEmail  = "email"
	ByAPIKey = "api_key"
)

// APIKey is one of a coach's keys, as the settings page lists it (the key
// itself is never stored).
type APIKey struct {
	ID        int64      `db:"id"`
	Label     string     `db:"label"`
	CreatedAt time.Time  `db:"created_at"`
	RevokedAt *time.Time `db:"revoked_at"`
}

// ValidLabel checks an API key's name.
func ValidLabel(label string) error {
	if label == "" || len(label) > 100 {
		return errs.Field("label", "is required (at most 100 characters)")
	}
	return nil
}
