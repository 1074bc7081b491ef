package web

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/notify"
)

// requestSignIn writes a one-time sign-in link for the coach with this
// email into the outbox, in the transaction that stores its token: the
// link is sent only if the token exists. An unknown address does nothing,
// and the page says the same either way, so it tells no one who is a coach.
func requestSignIn(ctx context.Context, d *sqlx.DB, baseURL, email, next string, now time.Time) error {
	email = strings.TrimSpace(email)
	if !auth.ValidEmail(email) {
		return errs.Field("email", "must be an email address")
	}
	coach, err := auth.CoachByEmail(ctx, d, email)
	if errs.CodeOf(err) == errs.NotFound {
		return nil
	}
	if err != nil {
		return err
	}
	return db.InTx(ctx, d, func(tx *sqlx.Tx) error {
		token, err := auth.IssueSignIn(ctx, tx, coach.ID, now)
		if err != nil {
			return err
		}
		link := SignInURL(baseURL, token)
		if next = safeNext(next); next != "/app" {
			link += "?next=" + url.QueryEscape(next) // back to the page first asked for
		}
		return notify.Enqueue(ctx, tx, notify.Message{
			CoachID: coach.ID, Cause: fmt.Sprintf("signin:%d:%d", coach.ID, now.UnixNano()), Template: notify.CoachSignIn,
			Locale: coach.Locale, To: coach.Email,
			Data: map[string]any{"CoachName": coach.Name, "Link": link,
				"Minutes": int(auth.SignInTTL / time.Minute)},
		})
	})
}

// SignInURL is the page a sign-in token opens.
func SignInURL(baseURL, token string) string {
	return strings.TrimRight(baseURL, "/") + "/app/signin/" + token
}

// safeNext keeps a post-sign-in redirect on this site's /app pages.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/app") && !strings.HasPrefix(next, "//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/app"
}
