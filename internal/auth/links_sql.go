package auth

import (
	"context"
	"crypto/hmac"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/db"
	"carnet/internal/errs"
)

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

// checkFrom reads a link sent from addr: a blocked address is refused like
// a bad link, in the same query that finds the client.
func (l *Links) checkFrom(ctx context.Context, token, addr string) (LinkCheck, error) {
	bad := LinkCheck{State: LinkInvalid}
	body, ok := strings.CutPrefix(token, "cl_")
	parts := strings.Split(body, ".")
	if !ok || len(parts) != 4 {
		return bad, nil
	}
	payload := strings.Join(parts[:3], ".")
	if !hmac.Equal([]byte(parts[3]), []byte(l.sign(payload))) {
		return bad, nil
	}
	nums := make([]int64, 3)
	for i := range nums {
		n, err := strconv.ParseInt(parts[i], 10, 64)
		if err != nil {
			return bad, nil //nolint:nilerr // a malformed link is a bad link, not a failure
		}
		nums[i] = n
	}
	lc := LinkCheck{CoachID: nums[0], ClientID: nums[1], ExpiresAt: time.Unix(nums[2], 0).UTC(), State: LinkValid}
	var st struct {
		Exists  bool `db:"client_exists"`
		Revoked bool `db:"revoked"`
	}
	if err := l.d.GetContext(ctx, &st, `SELECT EXISTS (SELECT 1 FROM clients WHERE coach_id = $1 AND id = $4)
		AND `+notBlocked+` AS client_exists,
		EXISTS (SELECT 1 FROM client_links WHERE token_hash = $5 AND revoked_at IS NOT NULL) AS revoked`,
		lc.CoachID, addr, l.now().UTC(), lc.ClientID, hashKey(token)); err != nil {
		return bad, err
	}
	switch {
	case !st.Exists:
		return bad, nil
	case st.Revoked:
		lc.State = LinkRevoked
	case !l.now().Before(lc.ExpiresAt):
		lc.State = LinkExpired
	}
	return lc, nil
}

// IssueStored signs a link and records it (its hash) in q, so that it can
// be revoked; q may be the transaction of the email that carries it.
func (l *Links) IssueStored(ctx context.Context, q sqlx.ExecerContext, coachID, clientID int64, ttl time.Duration) (string, time.Time, error) {
	token, expires := l.Issue(coachID, clientID, ttl)
	_, err := q.ExecContext(ctx, `INSERT INTO client_links (token_hash, coach_id, client_id, issued_at, expires_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (token_hash) DO NOTHING`, hashKey(token), coachID, clientID, l.now().UTC(), expires)
	// A second link asked for in the same second is the same token: the
	// same row.
	return token, expires, err
}

// RevokeLinks revokes every recorded link of a client and ends the page
// sessions they opened, on every device.
func (l *Links) RevokeLinks(ctx context.Context, coachID, clientID int64) error {
	return db.InTx(ctx, l.d, func(tx *sqlx.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE client_links SET revoked_at = $3
			WHERE coach_id = $1 AND client_id = $2 AND revoked_at IS NULL`, coachID, clientID, l.now().UTC()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM client_web_sessions WHERE coach_id = $1 AND client_id = $2`, coachID, clientID)
		return err
	})
}

// OpenSession exchanges a valid link for a page session that lasts as long
// as the link would have: the coach's choice of how long access lasts.
func (l *Links) OpenSession(ctx context.Context, lc LinkCheck) (string, error) {
	if lc.State != LinkValid {
		return "", errs.New(errs.Unauthorized, "this link no longer opens the page")
	}
	token := "cs_" + randomToken(32)
	_, err := l.d.ExecContext(ctx, `INSERT INTO client_web_sessions (token_hash, coach_id, client_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, hashKey(token), lc.CoachID, lc.ClientID, l.now().UTC(), lc.ExpiresAt)
	return token, err
}

// ClientBySession finds the client of a live page session.
func (l *Links) ClientBySession(ctx context.Context, token string) (ClientAuth, error) {
	var a ClientAuth
	err := l.d.QueryRowxContext(ctx, `SELECT coach_id, client_id FROM client_web_sessions
		WHERE token_hash = $1 AND expires_at > $2`, hashKey(token), l.now().UTC()).Scan(&a.CoachID, &a.ClientID)
	if db.NoRows(err) {
		return a, errs.New(errs.Unauthorized, "signed out")
	}
	return a, err
}

// CloseSession ends one page session.
func (l *Links) CloseSession(ctx context.Context, token string) error {
	_, err := l.d.ExecContext(ctx, `DELETE FROM client_web_sessions WHERE token_hash = $1`, hashKey(token))
	return err
}
