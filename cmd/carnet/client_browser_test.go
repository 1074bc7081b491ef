package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"carnet/internal/browsertest"
)

// clientShop is a coach selling through the browser app: a charter with
// written points, an offer, and a client with a link.
type clientShop struct {
	a      *app
	key    string
	offer  map[string]any
	client map[string]any
	link   string
}

func newClientShop(t *testing.T, a *app, email, locale string) *clientShop {
	t.Helper()
	s := &clientShop{a: a, key: a.coach("coach-" + email)}
	a.must(201, "POST", "/v1/charter", s.key, map[string]any{"notice_hours": 24, "late_cancel_action": "deduct",
		"agreement": map[string]any{
			"en": map[string]any{"included": "A written training plan", "excluded": "Gym membership",
				"session_length": "60 minutes", "frequency": "once a week", "extras": "Video session: €20", "free_text": "Bring water."},
			"fr": map[string]any{"included": "Un plan d'entraînement écrit", "excluded": "L'abonnement à la salle",
				"session_length": "60 minutes", "frequency": "une fois par semaine", "extras": "Séance en visio : 20 €",
				"free_text": "Apportez de l'eau."}}})
	s.offer = a.must(201, "POST", "/v1/offers", s.key, map[string]any{"name": "Ten sessions", "kind": "sessions", "sessions": 10,
		"price_amount": 45000, "installments": 3})
	s.client = a.must(201, "POST", "/v1/clients", s.key, map[string]any{"name": "Ana " + locale, "email": email, "locale": locale,
		"phone": "+33 6 12 34 56 78"})
	s.link = a.must(201, "POST", "/v1/clients/"+id(s.client)+"/links", s.key, map[string]any{"ttl_hours": 48})["url"].(string)
	return s
}

// sessionIn books the client in a session starting after d.
func (s *clientShop) sessionIn(d time.Duration) string {
	sess := s.a.must(201, "POST", "/v1/sessions", s.key, map[string]any{"starts_at": s.a.clock().Add(d), "title": "Run",
		"client_ids": []any{s.client["id"]}})
	return jsonString(sess["bookings"].([]any)[0].(map[string]any)["id"])
}

func (a *app) setClock(t time.Time) {
	a.mu.Lock()
	a.now = t
	a.mu.Unlock()
}

// A client opens their link on a phone, sees their balance, cancels a
// session late after reading what it costs, and finds it counted; the
// page fits the phone's width; another client's ids are not found.
func TestBrowserClientPageBalanceAndLateCancellation(t *testing.T) {
	t.Parallel()
	a, _ := startBrowserApp(t)
	s := newClientShop(t, a, "ana@example.com", "en")
	a.must(201, "POST", "/v1/clients/"+id(s.client)+"/packs", s.key, map[string]any{"offer_id": s.offer["id"], "method": "cash"})
	booking := s.sessionIn(3 * time.Hour)
	tab := browsertest.New(t)
	browsertest.Viewport(t, tab, browsertest.PhoneWidth, browsertest.PhoneHeight, true)

	browsertest.Do(t, tab, "open the link", chromedp.Navigate(s.link), chromedp.WaitVisible(`.balance`))
	if loc := browsertest.Eval[string](t, tab, `location.href`); strings.Contains(loc, "cl_") || !strings.HasSuffix(loc, "/client") {
		t.Fatalf("after the link the address is %s: want the clean /client", loc)
	}
	txt := browsertest.Text(t, tab)
	for _, w := range []string{"My sessions with Coach coach-ana@example.com", "Ten sessions", "10 sessions left", "Run", "Payment to the coach", "cash", "€450.00"} {
		if !strings.Contains(txt, w) {
			t.Errorf("the page lacks %q:\n%s", w, txt)
		}
	}
	if over := browsertest.HorizontalOverflow(t, tab); len(over) > 0 {
		t.Errorf("the phone must scroll sideways: %v", over)
	}
	browsertest.Screenshot(t, tab, screenshotPath("client-home-phone.png"))
	for _, path := range []string{"/client/buy", "/client/buy/" + id(s.offer) + "?plan=installments"} {
		browsertest.Do(t, tab, "open "+path, chromedp.Navigate(a.base+path), chromedp.WaitVisible(`main`))
		if over := browsertest.HorizontalOverflow(t, tab); len(over) > 0 {
			t.Errorf("%s on a phone scrolls sideways: %v", path, over)
		}
		if v := browsertest.Axe(t, tab); len(v) > 0 {
			t.Errorf("%s accessibility: %v", path, v)
		}
	}
	browsertest.Do(t, tab, "back home", chromedp.Navigate(a.base+"/client"), chromedp.WaitVisible(`.balance`))

	browsertest.Do(t, tab, "ask to cancel", chromedp.Click(`#booking-`+booking+` a`), chromedp.WaitVisible(`#consequence`))
	if got := browsertest.Text(t, tab); !strings.Contains(got, "This session will be counted: it starts in less than 24 hours") {
		t.Fatalf("the cost is not shown before confirming:\n%s", got)
	}
	if n := a.count(`SELECT count(*) FROM bookings WHERE outcome IS NOT NULL`); n != 0 {
		t.Fatal("reading the cost cancelled the booking")
	}
	browsertest.Screenshot(t, tab, screenshotPath("client-cancel-late.png"))
	browsertest.Do(t, tab, "confirm", chromedp.Click(`#confirm-cancel`), chromedp.WaitVisible(`.notice`))
	txt = browsertest.Text(t, tab)
	for _, w := range []string{"It was counted as a session.", "9 sessions left", "cancelled late", "1 session"} {
		if !strings.Contains(txt, w) {
			t.Errorf("after cancelling the page lacks %q:\n%s", w, txt)
		}
	}
	if n := a.count(`SELECT count(*) FROM ledger_entries WHERE booking_id = $1 AND kind = 'late_cancel' AND delta = -1`, booking); n != 1 {
		t.Fatalf("late cancellation entries: %d", n)
	}

	// The coach marks a past session attended; the client confirms it.
	done := s.sessionIn(-2 * time.Hour)
	a.must(200, "POST", "/v1/bookings/"+done+"/outcome", s.key, map[string]any{"outcome": "attended"})
	browsertest.Do(t, tab, "confirm attendance", chromedp.Navigate(a.base+"/client"), chromedp.Click(`#confirm-`+done),
		chromedp.WaitVisible(`.notice`))
	if got := browsertest.Text(t, tab); !strings.Contains(got, "your confirmation is recorded") || !strings.Contains(got, "Confirmed on November 2, 2026") {
		t.Fatalf("after confirming:\n%s", got)
	}
	if n := a.count(`SELECT count(*) FROM bookings WHERE id = $1 AND client_confirmed_at IS NOT NULL`, done); n != 1 {
		t.Fatal("the confirmation is not recorded")
	}

	// Free when read, late when confirmed: the page shows the new cost and
	// asks again instead of cancelling.
	soon := s.sessionIn(24*time.Hour + 30*time.Minute)
	browsertest.Do(t, tab, "read a free cancellation", chromedp.Navigate(a.base+"/client/bookings/"+soon+"/cancel"),
		chromedp.WaitVisible(`#consequence`))
	if got := browsertest.Text(t, tab); !strings.Contains(got, "Free: you are cancelling at least 24 hours before it starts") {
		t.Fatalf("free cancellation page:\n%s", got)
	}
	a.setClock(a.clock().Add(time.Hour))
	browsertest.Do(t, tab, "confirm too late", chromedp.Click(`#confirm-cancel`), chromedp.WaitVisible(`.error`))
	if got := browsertest.Text(t, tab); !strings.Contains(got, "That has changed in the meantime") || !strings.Contains(got, "This session will be counted") {
		t.Fatalf("after the window closed:\n%s", got)
	}
	if n := a.count(`SELECT count(*) FROM bookings WHERE id = $1 AND outcome IS NOT NULL`, soon); n != 0 {
		t.Fatal("a cancellation was made at a cost the client had not read")
	}

	// Another client's booking and pack, with this client's cookie.
	other := a.must(201, "POST", "/v1/clients", s.key, map[string]any{"name": "Bo", "email": "bo@example.com"})
	bp := a.must(201, "POST", "/v1/clients/"+id(other)+"/packs", s.key, map[string]any{"offer_id": s.offer["id"], "method": "cash"})
	sess := a.must(201, "POST", "/v1/sessions", s.key, map[string]any{"starts_at": a.clock().Add(72 * time.Hour), "client_ids": []any{other["id"]}})
	theirs := jsonString(sess["bookings"].([]any)[0].(map[string]any)["id"])
	for _, path := range []string{"/client/bookings/" + theirs + "/cancel", "/client/packs/" + id(bp) + "/agreement"} {
		browsertest.Do(t, tab, "open "+path, chromedp.Navigate(a.base+path), chromedp.WaitVisible(`h1`))
		if st := browsertest.Status(t, tab); st != 404 {
			t.Errorf("%s with another client's cookie: %d, want 404", path, st)
		}
		if txt := browsertest.Text(t, tab); strings.Contains(txt, "Bo") {
			t.Errorf("%s shows the other client: %s", path, txt)
		}
	}
}

// A client reads the agreement (in French), accepts it, pays through the
// local checkout and sees the pack active; the printed agreement holds
// every point, and the coach prints the same.
func TestBrowserClientBuysAfterAcceptingTheAgreement(t *testing.T) {
	t.Parallel()
	a, _ := startBrowserApp(t)
	s := newClientShop(t, a, "lea@example.com", "fr")
	tab := browsertest.New(t)
	browsertest.Do(t, tab, "open the link", chromedp.Navigate(s.link), chromedp.WaitVisible(`h1`))
	browsertest.Do(t, tab, "see the offers", chromedp.Click(`a[href="/client/buy"].button`), chromedp.WaitVisible(`.offer`))
	txt := browsertest.Text(t, tab)
	for _, w := range []string{"Ten sessions", "450,00 €", "En mensualités", "2 novembre 2026 : 150,00 €", "2 janvier 2027 : 150,00 €",
		"carte", "prélèvement SEPA", "PayPal"} {
		if !strings.Contains(txt, w) {
			t.Errorf("the offers page lacks %q:\n%s", w, txt)
		}
	}
	browsertest.Do(t, tab, "read the agreement", chromedp.Click(`#buy-`+id(s.offer)+`-upfront`), chromedp.WaitVisible(`#accept`))
	browsertest.Screenshot(t, tab, screenshotPath("client-agreement-read.png"))
	// Paying without ticking is not possible (the box is required).
	browsertest.Do(t, tab, "accept and pay", chromedp.Click(`#accept`), chromedp.Click(`#accept-pay`), chromedp.WaitVisible(`button[value=card]`))
	browsertest.Do(t, tab, "pay by card", chromedp.Click(`button[value=card]`), chromedp.WaitNotPresent(`button[value=card]`))
	browsertest.Do(t, tab, "back to the page", chromedp.Navigate(a.base+"/client"), chromedp.WaitVisible(`.balance`))
	txt = browsertest.Text(t, tab)
	for _, w := range []string{"active", "10 séances restantes", "Paiements de cette formule", "payée", "Paiement · Ten sessions", "450,00 €", "carte", "Reçu Stripe"} {
		if !strings.Contains(txt, w) {
			t.Errorf("after paying the page lacks %q:\n%s", w, txt)
		}
	}
	if v := browsertest.Axe(t, tab); len(v) > 0 {
		t.Errorf("accessibility: %v", v)
	}
	var pack string
	if err := a.m.DB.Get(&pack, `SELECT pack_id::text FROM agreement_acceptances`); err != nil {
		t.Fatalf("no acceptance recorded: %v", err)
	}
	browsertest.Do(t, tab, "open the signed agreement", chromedp.Click(`a[href="/client/packs/`+pack+`/agreement"]`), chromedp.WaitVisible(`#signature`))
	emulatePrint(t, tab)
	printed := browsertest.Text(t, tab)
	for _, w := range []string{"Accord de suivi entre Coach coach-lea@example.com et Ana fr", "version 1",
		"Ana fr, lea@example.com, +33 6 12 34 56 78", "10 séances, valables 180 jours", "Prix : 450,00 €.",
		"Payé en une fois le 2 novembre 2026 : 450,00 €.", "Durée d'une séance : 60 minutes", "Fréquence : une fois par semaine",
		"Un plan d'entraînement écrit", "L'abonnement à la salle", "Séance en visio : 20 €", "Apportez de l'eau.",
		"au moins 24 heures avant", "décomptée comme une séance", "annulée par le coach ne vous coûte jamais rien",
		"Accepté par le client le", "127.0.0.1", "SHA-256"} {
		if !strings.Contains(printed, w) {
			t.Errorf("the printed agreement lacks %q:\n%s", w, printed)
		}
	}
	if strings.Contains(printed, "Se déconnecter") || strings.Contains(printed, "Carnet\n") {
		t.Errorf("the printed agreement carries the page's navigation:\n%s", printed)
	}
	browsertest.Screenshot(t, tab, screenshotPath("client-agreement-print.png"))

	// The coach opens the same signed text from their app.
	coachTab := browsertest.Incognito(t, tab)
	browsertest.Do(t, coachTab, "sign in", chromedp.Navigate(a.base+"/app/signin"), chromedp.Click(`summary`),
		chromedp.SendKeys(`#api_key`, s.key), chromedp.Submit(`#api_key`), chromedp.WaitVisible(`nav`),
		chromedp.Navigate(a.base+"/app/packs/"+pack+"/agreement"), chromedp.WaitVisible(`#signature`))
	if txt := browsertest.Text(t, coachTab); !strings.Contains(txt, "Apportez de l'eau.") || !strings.Contains(txt, "127.0.0.1") {
		t.Fatalf("the coach's copy:\n%s", txt)
	}
	// A new version published from the coach's charter editor keeps the
	// agreement's written points (the editor has no fields for them yet).
	a.page(t, coachTab, "/app/offers")
	submit(t, coachTab, `#charter-preview-submit`, `#notice_hours`, "12")
	submit(t, coachTab, `#charter-publish`)
	ch := a.must(200, "GET", "/v1/charter", s.key, nil)
	if pts, _ := ch["agreement"].(map[string]any)["fr"].(map[string]any); ch["version"] != float64(2) || pts["free_text"] != "Apportez de l'eau." {
		t.Fatalf("the editor's new version lost the points: %v", ch)
	}
}

// An expired link shows its page; the client asks for a fresh one, which
// arrives by email (a real SMTP server) and opens the page.
func TestBrowserExpiredLinkSendsAFreshOne(t *testing.T) {
	t.Parallel()
	a, mail := startBrowserApp(t)
	s := newClientShop(t, a, "eva@example.com", "es")
	a.setClock(a.clock().Add(49 * time.Hour))
	tab := browsertest.New(t)
	browsertest.Do(t, tab, "open the old link", chromedp.Navigate(s.link), chromedp.WaitVisible(`#fresh-link`))
	if st := browsertest.Status(t, tab); st != 410 {
		t.Errorf("an expired link answers %d, want 410", st)
	}
	if txt := browsertest.Text(t, tab); !strings.Contains(txt, "Este enlace ha caducado") {
		t.Fatalf("the expired link's page:\n%s", txt)
	}
	browsertest.Screenshot(t, tab, screenshotPath("client-link-expired.png"))
	browsertest.Do(t, tab, "ask for a fresh link", chromedp.Click(`#fresh-link`), chromedp.WaitVisible(`#link-sent`))
	fresh := waitMail(t, mail, "eva@example.com", regexp.MustCompile(`http://\S+/c/cl_\S+`))
	browsertest.Do(t, tab, "open the fresh link", chromedp.Navigate(fresh), chromedp.WaitVisible(`#packs-h`))
	if txt := browsertest.Text(t, tab); !strings.Contains(txt, "Mis sesiones con") {
		t.Fatalf("the fresh link opens:\n%s", txt)
	}
	// Without a link, by address: the same words whether it is known or not.
	other := browsertest.Incognito(t, tab)
	for _, addr := range []string{"eva@example.com", "nobody@example.com"} {
		browsertest.Do(t, other, "ask by address", chromedp.Navigate(a.base+"/client"), chromedp.WaitVisible(`#email`),
			chromedp.SendKeys(`#email`, addr), chromedp.Click(`#fresh-link`), chromedp.WaitVisible(`#link-sent`))
		if txt := browsertest.Text(t, other); !strings.Contains(txt, "If this address is on file, a fresh link is on its way") {
			t.Errorf("asking for %s: %s", addr, txt)
		}
	}
}

// emulatePrint shows the page as printed (the print stylesheet applies).
func emulatePrint(t *testing.T, tab context.Context) {
	t.Helper()
	browsertest.Do(t, tab, "print media", chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	}))
}

// screenshotPath is where a page's picture goes: the directory
// CARNET_SCREENSHOTS names (make screenshots: docs/screenshots), else a
// scratch one, so a test run leaves the tree as it was.
func screenshotPath(name string) string {
	if dir := os.Getenv("CARNET_SCREENSHOTS"); dir != "" {
		return filepath.Join(dir, name)
	}
	return filepath.Join(os.TempDir(), "carnet-screenshots", name)
}
