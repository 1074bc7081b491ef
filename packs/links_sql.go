package packs

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/i18n"
	"carnet/notify"
)

// SendFreshLink emails a new link to the address on file: the client an
// expired or revoked link names, else every client whose address is email.
// It says nothing of what it found, so the page cannot reveal whether an
// address is known.
func (s *Service) SendFreshLink(ctx context.Context, lc auth.LinkCheck, email string) error {
	email = strings.TrimSpace(email)
	type who struct {
		CoachID  int64 `db:"coach_id"`
		ClientID int64 `db:"id"`
	}
	var found []who
	var err error
	switch {
	case lc.State != auth.LinkInvalid:
		found = []who{{lc.CoachID, lc.ClientID}}
	case auth.ValidEmail(email):
		err = s.DB.SelectContext(ctx, &found, `SELECT coach_id, id FROM clients WHERE lower(email) = lower($1)`, email)
	}
	if err != nil {
		return err
	}
	now := s.Now().UTC()
	for _, w := range found {
		if err := db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error { return s.queueLink(ctx, tx, w.CoachID, w.ClientID, now) }); err != nil {
			return err
		}
	}
	return nil
}

// queueLink writes the email of a fresh link in tx, with the link recorded.
func (s *Service) queueLink(ctx context.Context, tx *sqlx.Tx, coachID, clientID int64, now time.Time) error {
	var p struct {
		Name   string `db:"name"`
		Email  string `db:"email"`
		Locale string `db:"locale"`
		Coach  string `db:"coach"`
		TZ     string `db:"timezone"`
	}
	if err := tx.GetContext(ctx, &p, `SELECT c.name, c.email, c.locale, co.name AS coach, co.timezone
		FROM clients c JOIN coaches co ON co.id = c.coach_id WHERE c.coach_id = $1 AND c.id = $2`, coachID, clientID); err != nil {
		return err
	}
	cause := fmt.Sprintf("client:%d:fresh_link:%d", clientID, now.Unix()/int64(freshLinkEvery/time.Second))
	var sent bool
	if err := tx.GetContext(ctx, &sent, `SELECT EXISTS (SELECT 1 FROM notifications WHERE cause_key = $1)`, cause); err != nil || sent {
		return err
	}
	token, expires, err := s.Links.IssueStored(ctx, tx, coachID, clientID, LinkTTL)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(p.TZ)
	if err != nil {
		loc = time.UTC
	}
	return notify.Enqueue(ctx, tx, notify.Message{CoachID: coachID, ClientID: &clientID, Cause: cause,
		Template: notify.FreshLink, Locale: p.Locale, To: p.Email, Data: map[string]any{
			"ClientName": p.Name, "CoachName": p.Coach, "URL": s.BaseURL + "/c/" + token,
			"ValidUntil": i18n.Date(expires.In(loc), p.Locale)}})
}

// EmailLink writes a link for the client into the outbox, in their
// language: the client's own page, or a checkout of offerID (named in it).
func (s *Service) EmailLink(ctx context.Context, coach auth.Coach, clientID int64, template, cause, link string, offerID int64) error {
	cl, err := s.Client(ctx, coach.ID, clientID)
	if err != nil {
		return err
	}
	data := map[string]any{"ClientName": cl.Name, "CoachName": coach.Name, "Link": link}
	if template == notify.CheckoutLink {
		o, err := s.Offer(ctx, coach.ID, offerID)
		if err != nil {
			return err
		}
		data["OfferName"] = o.Name
	}
	return db.InTx(ctx, s.DB, func(tx *sqlx.Tx) error {
		return notify.Enqueue(ctx, tx, notify.Message{CoachID: coach.ID, ClientID: &clientID, Cause: cause,
			Template: template, Locale: cl.Locale, To: cl.Email, Data: data})
	})
}
