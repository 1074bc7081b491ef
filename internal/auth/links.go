package auth

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/errs"
)

// Links signs and checks client links: a token that names one client of one
// coach and an expiry, signed with HMAC-SHA256. Every process shares the key
// through the database (or CARNET_LINK_SECRET), so any of them can check a
// link another one signed.
type Links struct {
	d      *sqlx.DB
	secret []byte
	now    func() time.Time
}

// MaxLinkTTL bounds how long a client link may live.
const MaxLinkTTL = 90 * 24 * time.Hour

// Issue signs a link for one client, valid for ttl.
func (l *Links) Issue(coachID, clientID int64, ttl time.Duration) (string, time.Time) {
	expires := l.now().Add(ttl).UTC().Truncate(time.Second)
	payload := fmt.Sprintf("%d.%d.%d", coachID, clientID, expires.Unix())
	return "cl_" + payload + "." + l.sign(payload), expires
}

func (l *Links) sign(payload string) string { return l.signFor("client-link:", payload) }

// signFor signs payload for one purpose, so a token of one kind is never
// accepted as another.
func (l *Links) signFor(purpose, payload string) string {
	m := hmac.New(sha256.New, l.secret)
	m.Write([]byte(purpose + payload))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Link states: what a client link says when it is opened.
const (
	LinkValid   = "valid"
	LinkExpired = "expired"
	LinkRevoked = "revoked"
	LinkInvalid = "invalid" // not signed by us, or its client is gone
)

// LinkCheck is whom a link names and whether it still opens. An expired or
// revoked link still names its client (its signature holds), so the page
// can offer a fresh one sent to the address on file.
type LinkCheck struct {
	CoachID, ClientID int64
	ExpiresAt         time.Time
	State             string
}

// Check reads a link; the error is only for a database that failed.
func (l *Links) Check(ctx context.Context, token string) (LinkCheck, error) {
	return l.checkFrom(ctx, token, "")
}

// Verify checks a link's signature and expiry, that it was not revoked and
// that its client still exists, and returns whom it names.
func (l *Links) Verify(ctx context.Context, token string) (coachID, clientID int64, err error) {
	return l.verifyFrom(ctx, token, "")
}

// verifyFrom is Verify for a link sent from addr (see checkFrom).
func (l *Links) verifyFrom(ctx context.Context, token, addr string) (coachID, clientID int64, err error) {
	lc, err := l.checkFrom(ctx, token, addr)
	if err != nil {
		return 0, 0, err
	}
	if lc.State != LinkValid {
		return 0, 0, errs.New(errs.Unauthorized, "invalid or expired client link")
	}
	return lc.CoachID, lc.ClientID, nil
}

// CheckoutTTL is how long a local test checkout page stays usable: the page
// also plays the later months of an installment plan.
const CheckoutTTL = MaxLinkTTL

// IssueCheckout signs the token that opens the local test checkout of one
// pack (Carnet without a Stripe account): pack ids are sequential, so the
// page must not open to whoever guesses one.
func (l *Links) IssueCheckout(packID int64) string {
	expires := l.now().Add(CheckoutTTL).UTC().Unix()
	payload := fmt.Sprintf("%d.%d", packID, expires)
	return "co_" + payload + "." + l.signFor("local-checkout:", payload)
}

// VerifyCheckout tells whether token opens the local checkout of packID.
func (l *Links) VerifyCheckout(packID int64, token string) bool {
	body, ok := strings.CutPrefix(token, "co_")
	parts := strings.Split(body, ".")
	if !ok || len(parts) != 3 || parts[0] != strconv.FormatInt(packID, 10) {
		return false
	}
	payload := parts[0] + "." + parts[1]
	if !hmac.Equal([]byte(parts[2]), []byte(l.signFor("local-checkout:", payload))) {
		return false
	}
	expires, err := strconv.ParseInt(parts[1], 10, 64)
	return err == nil && l.now().Before(time.Unix(expires, 0))
}
