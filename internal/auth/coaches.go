// Package auth knows who is calling: coaches by API key, clients by a signed
// link. It owns coaches and their keys.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"

	"golang.org/x/text/language"

	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/internal/money"
)

// Coach is the tenant: every row a coach owns carries its id.
type Coach struct {
	ID       int64  `db:"id" json:"id"`
	Name     string `db:"name" json:"name"`
	Email    string `db:"email" json:"email"`
	Currency string `db:"currency" json:"currency"`
	Timezone string `db:"timezone" json:"timezone"`
	Locale   string `db:"locale" select:"coach_locale($.id)" json:"locale"`
	// Country is ISO 3166 alpha-2, "" when the coach has not said (the
	// payment methods then guess from the time zone).
	Country   string    `db:"country" select:"coalesce((SELECT cp.country FROM coach_preferences cp WHERE cp.coach_id = $.id), '')" json:"country,omitempty"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// coachCols are the columns a Coach scans: never "*", so a column a newer
// release adds cannot break this binary during a rolling deploy.
var coachCols = db.Columns[Coach]("")

// coachColsC are coachCols of alias c, built once: the key and session
// look-ups run on every request.
var coachColsC = db.Columns[Coach]("c")

// NewCoach is what it takes to create a coach.
type NewCoach struct {
	Name, Email, Currency, Timezone string
}

func (n *NewCoach) validate() error {
	n.Name = strings.TrimSpace(n.Name)
	n.Email = strings.TrimSpace(n.Email)
	if n.Timezone == "" {
		n.Timezone = "UTC"
	}
	switch {
	case n.Name == "" || len(n.Name) > 200:
		return errs.Field("name", "is required (at most 200 characters)")
	case !ValidEmail(n.Email):
		return errs.Field("email", "must be an email address")
	case !money.ValidCurrency(n.Currency):
		return errs.Field("currency", "must be an ISO 4217 code such as EUR")
	}
	// "Local" means this machine's zone to Go and nothing to PostgreSQL.
	if _, err := time.LoadLocation(n.Timezone); err != nil || n.Timezone == "Local" {
		return errs.Field("timezone", "must be an IANA time zone such as Europe/Paris")
	}
	return nil
}

// ValidEmail is a plain sanity check: something@something.tld, no spaces.
func ValidEmail(s string) bool {
	at := strings.LastIndexByte(s, '@')
	return len(s) >= 3 && len(s) <= 320 && at > 0 && strings.Contains(s[at:], ".") &&
		!strings.ContainsAny(s, " \t\r\n<>,;") && !strings.HasSuffix(s, ".")
}

func hashKey(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CoachSettings are what a coach changes on the settings page.
type CoachSettings struct {
	Locale, Timezone, Currency string
	Country                    string // ISO 3166 alpha-2, or "" for none
}

// countryOf checks a country typed in the settings: "" (none, NULL) or an
// ISO 3166 alpha-2 code, returned upper-cased.
func countryOf(s string) (*string, error) {
	if s == "" {
		return nil, nil
	}
	r, err := language.ParseRegion(s)
	if err != nil || !r.IsCountry() || len(s) != 2 {
		return nil, errs.Field("country", "must be an ISO 3166 alpha-2 code such as FR")
	}
	code := r.String()
	return &code, nil
}
