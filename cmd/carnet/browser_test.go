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
	a.m = &Main{Config: cfg, Now: a.clock, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		DispatchEvery: 200 * time.Millisecond}
	if err := a.m.Run(context.Background()); err != nil {
		t.Fatalf("start carnet: %v", err)
	}
	t.Cleanup(func() { a.m.Close() })
	a.base = "http://" + a.m.Addr
	return a, mail
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
		chromedp.WaitVisible(`#email`),
		chromedp.SendKeys(`#email`, "lien@example.com"),
		chromedp.Submit(`#email`),
		chromedp.WaitVisible(`.notice`),
	)
	// Before signing in, pages speak the browser's language (English here).
	if txt := browsertest.Text(t, tab); !strings.Contains(txt, "a sign-in link is on its way") {
		t.Fatalf("after asking for a link the page says: %s", txt)
	}
	link := waitMail(t, mail, "lien@example.com", regexp.MustCompile(`http://\S+/app/signin/si_\S+`))

	browsertest.Do(t, tab, "open the link", chromedp.Navigate(link), chromedp.Click(`#signin-confirm`), chromedp.WaitVisible(`nav`))
	// Signed in, the coach's own language (fr by default) and the page
	// first asked for.
	if loc := browsertest.Eval[string](t, tab, `location.pathname`); loc != "/app/settings" {
		t.Errorf("after signing in the browser is at %s, want the page first asked for", loc)
	}
	if txt := browsertest.Text(t, tab); !strings.Contains(txt, "Réglages") || !strings.Contains(txt, "Se déconnecter") {
		t.Fatalf("signed in, the page says: %s", txt)
	}

	other := browsertest.Incognito(t, tab)
	browsertest.Do(t, other, "open the link again", chromedp.Navigate(link), chromedp.Click(`#signin-confirm`), chromedp.WaitVisible(`.error`))
	if txt := browsertest.Text(t, other); !strings.Contains(txt, "already used") {
		t.Fatalf("a used link should be refused, the page says: %s", txt)
	}
}
