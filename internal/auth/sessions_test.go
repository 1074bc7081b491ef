package auth

import (
	"context"
	"sync"
	"testing"
	"time"

	"carnet/internal/errs"
	"carnet/internal/testdb"
)

// A sign-in link opens one session, once, within its minutes; sessions end
// on sign-out, on their expiry, and all at once everywhere.
func TestSignInLinksAndSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := testdb.New(t)
	coach, _, err := CreateCoach(ctx, d, NewCoach{Name: "C", Email: "c@example.com", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	link, err := SignInLink(ctx, d, coach.ID, now)
	if err != nil {
		t.Fatal(err)
	}
	// Ten browsers race on the link: exactly one gets in.
	var mu sync.Mutex
	var sessions []string
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, s, err := UseSignIn(ctx, d, link, now.Add(time.Minute)); err == nil {
				mu.Lock()
				sessions = append(sessions, s)
				mu.Unlock()
			} else if errs.CodeOf(err) != errs.Unauthorized {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if len(sessions) != 1 {
		t.Fatalf("%d sessions from one link", len(sessions))
	}
	if c, err := CoachBySession(ctx, d, sessions[0], now.Add(time.Hour)); err != nil || c.ID != coach.ID {
		t.Fatalf("session: %v %v", c, err)
	}
	if _, err := CoachBySession(ctx, d, sessions[0], now.Add(SessionTTL+time.Minute)); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("an expired session: %v", err)
	}
	late, _ := SignInLink(ctx, d, coach.ID, now)
	if _, _, err := UseSignIn(ctx, d, late, now.Add(SignInTTL)); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("a link used after its minutes: %v", err)
	}
	other, _ := SignInLink(ctx, d, coach.ID, now)
	_, second, err := UseSignIn(ctx, d, other, now)
	if err != nil {
		t.Fatal(err)
	}
	if err := SignOut(ctx, d, second); err != nil {
		t.Fatal(err)
	}
	if _, err := CoachBySession(ctx, d, second, now); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("after sign-out: %v", err)
	}
	unused, _ := SignInLink(ctx, d, coach.ID, now)
	if err := SignOutEverywhere(ctx, d, coach.ID, now); err != nil {
		t.Fatal(err)
	}
	if _, err := CoachBySession(ctx, d, sessions[0], now); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("after signing out everywhere: %v", err)
	}
	if _, _, err := UseSignIn(ctx, d, unused, now); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("a link sent before signing out everywhere still works: %v", err)
	}
}
