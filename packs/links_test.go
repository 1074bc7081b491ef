package packs

import (
	"context"
	"strings"
	"testing"
	"time"

	"carnet/internal/auth"
)

func (w *world) links() *auth.Links {
	w.t.Helper()
	l, err := auth.NewLinks(context.Background(), w.s.DB, "test-secret", w.clock)
	if err != nil {
		w.t.Fatal(err)
	}
	w.s.Links, w.s.BaseURL = l, "https://carnet.test"
	return l
}

// freshLinks are the fresh-link emails written for a client, newest first.
func (w *world) freshLinks(clientID int64) []string {
	w.t.Helper()
	var urls []string
	if err := w.s.DB.Select(&urls, `SELECT data->>'URL' FROM notifications WHERE client_id = $1 AND template = 'fresh_link'
		ORDER BY id DESC`, clientID); err != nil {
		w.t.Fatal(err)
	}
	return urls
}

// A link opens the page until it expires or is revoked; then it still names
// its client, who can have a fresh one sent to the address on file, at most
// once every ten minutes; an unknown address gets nothing and is told nothing.
func TestLinksExpireRevokeAndRenew(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	l := w.links()
	ctx := context.Background()
	lea := w.client("lea")
	token, _, err := l.IssueStored(ctx, w.s.DB, w.coach.ID, lea.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	lc, err := l.Check(ctx, token)
	if err != nil || lc.State != auth.LinkValid || lc.ClientID != lea.ID {
		t.Fatalf("fresh link: %+v %v", lc, err)
	}
	session, err := l.OpenSession(ctx, lc)
	if err != nil {
		t.Fatal(err)
	}
	if who, err := l.ClientBySession(ctx, session); err != nil || who.ClientID != lea.ID {
		t.Fatalf("session: %+v %v", who, err)
	}
	if bad, _ := l.Check(ctx, token[:len(token)-2]+"xx"); bad.State != auth.LinkInvalid || bad.ClientID != 0 {
		t.Fatalf("a forged link: %+v", bad)
	}

	w.setNow(w.clock().Add(time.Hour))
	if lc, _ = l.Check(ctx, token); lc.State != auth.LinkExpired || lc.ClientID != lea.ID {
		t.Fatalf("an hour later: %+v", lc)
	}
	if _, err := l.ClientBySession(ctx, session); err == nil {
		t.Fatal("the session outlived its link")
	}
	for range 3 {
		if err := w.s.SendFreshLink(ctx, lc, ""); err != nil {
			t.Fatal(err)
		}
	}
	urls := w.freshLinks(lea.ID)
	if len(urls) != 1 || !strings.HasPrefix(urls[0], "https://carnet.test/c/cl_") {
		t.Fatalf("fresh links %v, want one", urls)
	}
	var to string
	_ = w.s.DB.Get(&to, `SELECT recipient FROM notifications WHERE client_id = $1`, lea.ID)
	if to != lea.Email {
		t.Fatalf("sent to %q, want the address on file %q", to, lea.Email)
	}
	fresh := strings.TrimPrefix(urls[0], "https://carnet.test/c/")
	if lc, _ := l.Check(ctx, fresh); lc.State != auth.LinkValid {
		t.Fatalf("the fresh link: %+v", lc)
	}

	// The coach revokes: every recorded link, and the sessions they opened.
	lc, _ = l.Check(ctx, fresh)
	session, _ = l.OpenSession(ctx, lc)
	if err := l.RevokeLinks(ctx, w.coach.ID, lea.ID); err != nil {
		t.Fatal(err)
	}
	if lc, _ := l.Check(ctx, fresh); lc.State != auth.LinkRevoked {
		t.Fatalf("after revoking: %+v", lc)
	}
	if _, err := l.ClientBySession(ctx, session); err == nil {
		t.Fatal("a session survived the revocation")
	}
	if _, _, err := l.Verify(ctx, fresh); err == nil {
		t.Fatal("the API accepts a revoked link")
	}

	// From a link that names nobody: by address, known or not.
	w.setNow(w.clock().Add(freshLinkEvery))
	nobody := auth.LinkCheck{State: auth.LinkInvalid}
	if err := w.s.SendFreshLink(ctx, nobody, "stranger@example.com"); err != nil {
		t.Fatal(err)
	}
	if err := w.s.SendFreshLink(ctx, nobody, "  LEA@example.com "); err != nil {
		t.Fatal(err)
	}
	if got := w.freshLinks(lea.ID); len(got) != 2 {
		t.Fatalf("fresh links by address: %v", got)
	}
	var all int
	_ = w.s.DB.Get(&all, `SELECT count(*) FROM notifications WHERE coach_id = $1`, w.coach.ID)
	if all != 2 {
		t.Fatalf("%d messages, want only Léa's two", all)
	}
}
