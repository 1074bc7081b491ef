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

	"carnet/internal/db"
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

// NewLinks loads the signing key: secret when given, else the one stored in
// the database, created on first use.
func NewLinks(ctx context.Context, d *sqlx.DB, secret string, now func() time.Time) (*Links, error) {
	l := &Links{d: d, now: now, secret: []byte(secret)}
	if secret != "" {
		return l, nil
	}
	var err error
	if l.secret, err = db.Secret(ctx, d, "client_link", 32); err != nil {
		return nil, fmt.Errorf("load client link secret: %w", err)
	}
	return l, nil
}

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

// Verify checks a link's signature and expiry and that its client still
// exists, and returns whom it names.
func (l *Links) Verify(ctx context.Context, token string) (coachID, clientID int64, err error) {
	return l.verifyFrom(ctx, token, "")
}

// verifyFrom verifies a link sent from addr: a blocked address is refused
// like a bad link, in the same query that finds the client.
func (l *Links) verifyFrom(ctx context.Context, token, addr string) (coachID, clientID int64, err error) {
	bad := errs.New(errs.Unauthorized, "invalid or expired client link")
	body, ok := strings.CutPrefix(token, "cl_")
	parts := strings.Split(body, ".")
	if !ok || len(parts) != 4 {
		return 0, 0, bad
	}
	payload := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(parts[3]), []byte(l.sign(payload))) {
		return 0, 0, bad
	}
	nums := make([]int64, 3)
	for i := range nums {
		if nums[i], err = strconv.ParseInt(parts[i], 10, 64); err != nil {
			return 0, 0, bad
		}
	}
	if !l.now().Before(time.Unix(nums[2], 0)) {
		return 0, 0, bad
	}
	var exists bool
	if err := l.d.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM clients WHERE coach_id = $1 AND id = $4)
		AND `+notBlocked, nums[0], addr, l.now().UTC(), nums[1]); err != nil {
		return 0, 0, err
	}
	if !exists {
		return 0, 0, bad
	}
	return nums[0], nums[1], nil
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
