package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"carnet/internal/auth"
	"carnet/internal/browsertest"
	"carnet/internal/mailtest"
	"carnet/internal/testdb"
)

// startBrowserApp starts the real program for a browser: its base URL is
// the address it listens on (cookies and sign-in links must point there)
// and its mail goes to a real SMTP server.
func startBrowserApp(t *testing.T) (*app, *mailtest.Server) {
	t.Helper()
	mail, _ := mailtest.Start(t, mailtest.PlainSMTP)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	a := &app{t: t, now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	cfg := Config{DatabaseURL: testdb.URLOf(t, testdb.New(t)), Addr: addr, BaseURL: "http://" + addr,
		StripeAPIBase: os.Getenv("STRIPE_API_BASE"), SMTPURL: mail.URL("smtp"), MailFrom: "carnet@test.example"}
	a.m = &Main{Config: cfg, Now: a.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if err := a.m.Run(context.Background()); err != nil {
		t.Fatalf("start carnet: %v", err)
	}
	t.Cleanup(func() { a.m.Close() })
	a.base = "http://" + a.m.Addr
	return a, mail
}

// coachIn creates a coach and signs a browser tab in with its API key,
// which it returns for setting things up through the API.
func (a *app) coachIn(t *testing.T, tab context.Context, email, locale string) (auth.Coach, string) {
	t.Helper()
	coach, key, err := auth.CreateCoach(context.Background(), a.m.DB, auth.NewCoach{
		Name: "Coach " + email, Email: email, Currency: "EUR", Timezone: "Europe/Paris"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.m.DB.Exec(`INSERT INTO coach_preferences (coach_id, locale) VALUES ($1, $2) ON CONFLICT (coach_id) DO UPDATE SET locale = excluded.locale`, coach.ID, locale); err != nil {
		t.Fatal(err)
	}
	coach.Locale = locale
	browsertest.Do(t, tab, "sign in with the key",
		chromedp.Navigate(a.base+"/app/signin"),
		browsertest.Click(`summary`),
		browsertest.SendKeys(`#api_key`, key),
		browsertest.Submit(`#api_key`),
		browsertest.WaitVisible(`nav`),
	)
	return coach, key
}

// page opens a path of the app and waits for its heading.
func (a *app) page(t *testing.T, tab context.Context, path string) string {
	t.Helper()
	browsertest.Do(t, tab, "open "+path, chromedp.Navigate(a.base+path), browsertest.WaitVisible(`h1`))
	return browsertest.Text(t, tab)
}

// submit fills fields (selector, value pairs) and clicks a button, then
// waits for the next page's heading.
func submit(t *testing.T, tab context.Context, button string, fields ...string) string {
	t.Helper()
	var steps []chromedp.Action[chromedp.Void]
	for i := 0; i+1 < len(fields); i += 2 {
		steps = append(steps, browsertest.SetValue(fields[i], fields[i+1]))
	}
	steps = append(steps, browsertest.Click(button))
	browsertest.Do(t, tab, "submit "+button, steps...)
	waitLoaded(t, tab)
	return browsertest.Text(t, tab)
}

// waitLoaded waits until the page that a click led to has loaded.
func waitLoaded(t *testing.T, tab context.Context) {
	t.Helper()
	time.Sleep(150 * time.Millisecond) // let the click start its navigation
	browsertest.Do(t, tab, "wait for the page", browsertest.WaitVisible(`h1`))
	for range 50 {
		if browsertest.Eval[string](t, tab, `document.readyState`) == "complete" {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustContain(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Fatalf("the page does not say %q; it says:\n%s", w, text)
		}
	}
}

// waitMail waits for a message to one address whose body matches re.
func waitMail(t *testing.T, mail *mailtest.Server, to string, re *regexp.Regexp) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range mail.Messages() {
			if len(m.To) > 0 && strings.EqualFold(m.To[0], to) {
				if s := re.FindString(m.Body); s != "" {
					return s
				}
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no message to %s matching %s; got %d messages", to, re, len(mail.Messages()))
	return ""
}

// A coach asks for a sign-in link, receives it by email, opens it and is
// in; the same link does not work twice.
func TestBrowserSignInByEmailedLink(t *testing.T) {
	t.Parallel()
	a, mail := startBrowserApp(t)
	a.coach("lien@example.com")
	tab := browsertest.New(t)

	browsertest.Do(t, tab, "ask for a link",
		chromedp.Navigate(a.base+"/app/settings"),
		browsertest.WaitVisible(`#email`),
		browsertest.SendKeys(`#email`, "lien@example.com"),
		browsertest.Submit(`#email`),
		browsertest.WaitVisible(`.notice`),
	)
	// Before signing in, pages speak the browser's language (English here).
	if txt := browsertest.Text(t, tab); !strings.Contains(txt, "a sign-in link is on its way") {
		t.Fatalf("after asking for a link the page says: %s", txt)
	}
	link := waitMail(t, mail, "lien@example.com", regexp.MustCompile(`http://\S+/app/signin/si_\S+`))

	browsertest.Do(t, tab, "open the link", chromedp.Navigate(link), browsertest.Click(`#signin-confirm`), browsertest.WaitVisible(`nav`))
	// Signed in, the coach's own language (fr by default) and the page
	// first asked for.
	if loc := browsertest.Eval[string](t, tab, `location.pathname`); loc != "/app/settings" {
		t.Errorf("after signing in the browser is at %s, want the page first asked for", loc)
	}
	if txt := browsertest.Text(t, tab); !strings.Contains(txt, "Réglages") || !strings.Contains(txt, "Se déconnecter") {
		t.Fatalf("signed in, the page says: %s", txt)
	}

	other := browsertest.Incognito(t, tab)
	browsertest.Do(t, other, "open the link again", chromedp.Navigate(link), browsertest.Click(`#signin-confirm`), browsertest.WaitVisible(`.error`))
	if txt := browsertest.Text(t, other); !strings.Contains(txt, "already used") {
		t.Fatalf("a used link should be refused, the page says: %s", txt)
	}
}
