package packs

import (
	"strings"
	"time"

	"carnet/internal/auth"
	"carnet/internal/errs"
)

// Client is someone who buys packs from a coach.
type Client struct {
	ID        int64     `db:"id" json:"id"`
	CoachID   int64     `db:"coach_id" json:"-"`
	Name      string    `db:"name" json:"name"`
	Email     string    `db:"email" json:"email"`
	Phone     string    `db:"phone" json:"phone"`
	Locale    string    `db:"locale" json:"locale"`
	Notes     string    `db:"notes" json:"notes"`
	StripeID  *string   `db:"stripe_customer_id" json:"-"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
	UpdatedAt time.Time `db:"updated_at" json:"updated_at"`
}

// ClientInput creates a client, or, with nil fields left alone, updates one.
type ClientInput struct {
	Name   *string `json:"name"`
	Email  *string `json:"email"`
	Phone  *string `json:"phone"`
	Locale *string `json:"locale"`
	Notes  *string `json:"notes"`
}

// Locales are the languages Carnet writes to clients in.
var Locales = []string{"fr", "es", "en"}

// apply validates in and writes the fields it sets onto c.
func (in ClientInput) apply(c *Client) error {
	if in.Name != nil {
		c.Name = strings.TrimSpace(*in.Name)
	}
	if in.Email != nil {
		c.Email = strings.TrimSpace(*in.Email)
	}
	if in.Phone != nil {
		c.Phone = strings.TrimSpace(*in.Phone)
	}
	if in.Locale != nil {
		c.Locale = *in.Locale
	}
	if in.Notes != nil {
		c.Notes = *in.Notes
	}
	switch {
	case c.Name == "" || len(c.Name) > 200:
		return errs.Field("name", "is required (at most 200 characters)")
	case !auth.ValidEmail(c.Email):
		return errs.Field("email", "must be an email address")
	case len(c.Phone) > 40:
		return errs.Field("phone", "must be at most 40 characters")
	case !validLocale(c.Locale):
		return errs.Field("locale", "must be one of fr, es, en")
	case len(c.Notes) > 4000:
		return errs.Field("notes", "must be at most 4000 characters")
	}
	return nil
}

func validLocale(l string) bool {
	for _, x := range Locales {
		if l == x {
			return true
		}
	}
	return false
}
