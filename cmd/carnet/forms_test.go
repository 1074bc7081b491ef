package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"carnet/internal/auth"
	"carnet/internal/stripefault"
)

// A refused form comes back as typed, with the error in words beside its
// field and nothing recorded: adding a client whose email is taken, and
// selling a pack by installments that the offer is not sold in.
func TestRefusedFormsKeepTheirInput(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("formes@example.com")
	session := coachSession(t, a, key)
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5 séances", "kind": "sessions", "sessions": 5, "price_amount": 25000})
	lea := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa Dubois", "email": "lea@example.com"})
	post := func(path string, form url.Values) reply {
		return a.do("POST", path, "", form.Encode(), "Content-Type", "application/x-www-form-urlencoded",
			"Cookie", "carnet_session="+session)
	}
	has := func(r reply, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(string(r.Body), w) {
				t.Errorf("the page lacks %q:\n%s", w, r.Body)
			}
		}
	}

	r := post("/app/clients", url.Values{"form": {"add_client"}, "name": {"Léa Martin"}, "email": {"lea@example.com"},
		"phone": {"06 11 22 33 44"}, "locale": {"es"}, "notes": {"Le mardi soir"}})
	if r.Status != 409 {
		t.Fatalf("a taken email: %d", r.Status)
	}
	has(r, `value="Léa Martin"`, `value="06 11 22 33 44"`, `<option value="es" selected>`, `>Le mardi soir</textarea>`,
		`<p class="field-error" id="new-email-error">Vous avez déjà un client avec cette adresse e-mail.</p>`)
	if n := a.count(`SELECT count(*) FROM clients WHERE email = 'lea@example.com'`); n != 1 {
		t.Fatalf("%d clients with that email", n)
	}

	r = post(fmt.Sprintf("/app/clients/%v/sell", lea["id"]), url.Values{"form": {"sell"}, "offer_id": {fmt.Sprint(offer["id"])},
		"method": {"checkout"}, "plan": {"installments"}, "reference": {"virement 42"}})
	if r.Status != 400 {
		t.Fatalf("installments of an offer sold upfront only: %d", r.Status)
	}
	has(r, `<option value="installments" selected>`, `value="virement 42"`,
		`<p class="field-error" id="plan-error">Vérifiez ce champ : Formule de paiement.</p>`,
		`name="method" value="checkout" checked>`)
	if strings.Contains(string(r.Body), `name="email" value="1" checked`) {
		t.Error("the email box was unticked, the page ticks it again")
	}
	if n := a.count(`SELECT count(*) FROM packs WHERE client_id = $1`, lea["id"]); n != 0 {
		t.Fatalf("a refused sale left %d packs", n)
	}

	// The next page is clean: the typed values belong to that one answer.
	r = a.do("GET", "/app/clients", "", nil, "Cookie", "carnet_session="+session)
	if r.Status != 200 || strings.Contains(string(r.Body), "Léa Martin") || strings.Contains(string(r.Body), "field-error") {
		t.Errorf("the list after a refusal: %d %s", r.Status, r.Body)
	}
}

// The country the coach sets decides PayPal, whatever the time zone says:
// a coach in Canada on Paris time offers no PayPal; one in Switzerland
// does. A country that is not one is refused beside the field, as typed.
func TestCoachCountryDecidesPayPal(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("pays@example.com")
	session := coachSession(t, a, key)
	a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5 séances", "kind": "sessions", "sessions": 5, "price_amount": 25000})
	cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Léa Dubois", "email": "lea@example.com", "locale": "en"})
	link := a.must(201, "POST", "/v1/clients/"+id(cl)+"/links", key, map[string]any{"ttl_hours": 48})["url"].(string)
	clientCookie := clientSession(t, a, link)
	methods := func() string { return clientPage(t, a, clientCookie, "/client/buy") }
	settings := func(country string) reply {
		return a.do("POST", "/app/settings", "", url.Values{"form": {"settings"}, "locale": {"fr"}, "timezone": {"Europe/Paris"},
			"currency": {"EUR"}, "country": {country}}.Encode(), "Content-Type", "application/x-www-form-urlencoded",
			"Cookie", "carnet_session="+session)
	}
	if !strings.Contains(methods(), "PayPal") {
		t.Fatal("without a country, a coach on Paris time offers PayPal (today's inference)")
	}
	// Saved, the settings page (where the post leads) shows it upper-cased.
	if r := settings("ca"); r.Status != 200 || !strings.Contains(string(r.Body), `id="country" name="country" value="CA"`) {
		t.Fatalf("country CA: %d %s", r.Status, r.Body)
	}
	if got := a.count(`SELECT count(*) FROM coach_preferences WHERE country = 'CA'`); got != 1 {
		t.Fatalf("the country is not kept: %d rows", got)
	}
	if strings.Contains(methods(), "PayPal") {
		t.Error("a coach in Canada offers PayPal")
	}
	r := settings("XX")
	if r.Status != 400 || !strings.Contains(string(r.Body), `value="XX"`) ||
		!strings.Contains(string(r.Body), `<p class="field-error" id="country-error">Vérifiez ce champ : Pays.</p>`) {
		t.Fatalf("country XX: %d %s", r.Status, r.Body)
	}
	if r := settings("CH"); r.Status != 200 || !strings.Contains(methods(), "PayPal") {
		t.Errorf("a coach in Switzerland: %d, PayPal offered: %v", r.Status, strings.Contains(methods(), "PayPal"))
	}
}

// The pages Stripe Checkout sends a client back to speak the language of
// the pack's client; a pack Carnet does not know falls back to the browser's.
func TestCheckoutReturnPagesInTheClientsLanguage(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("retour@example.com")
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5 sesiones", "kind": "sessions", "sessions": 5, "price_amount": 25000})
	cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Mateo García", "email": "mateo@example.com", "locale": "es"})
	co := a.must(201, "POST", "/v1/checkout", key, map[string]any{"client_id": cl["id"], "offer_id": offer["id"]})
	for _, c := range []struct{ path, lang, want string }{
		{"/checkout/done?pack=" + jsonString(co["pack_id"]), "en", "Su pago está en camino."},
		{"/checkout/cancelled?pack=" + jsonString(co["pack_id"]), "fr", "No se ha cobrado nada."},
		{"/checkout/done?pack=999999", "fr", "Votre paiement est en route."},
		{"/checkout/cancelled", "en", "Nothing was charged."},
	} {
		r := a.do("GET", c.path, "", nil, "Accept-Language", c.lang)
		if r.Status != 200 || !strings.Contains(string(r.Body), c.want) {
			t.Errorf("%s (browser in %s): %d, want %q in %s", c.path, c.lang, r.Status, c.want, r.Body)
		}
	}
}

// The client's receipts: while Stripe fails, the page shows the payments
// without their links (never an error); once Stripe answers, each receipt
// is read once and kept, so later pages ask Stripe nothing.
func TestClientReceiptsReadOnceAndNeverAnError(t *testing.T) {
	t.Parallel()
	proxy := stripefault.New(t, os.Getenv("STRIPE_API_BASE"))
	a := startAppWith(t, "", func(m *Main) { m.StripeAPIBase = proxy.URL })
	key := a.coach("recus@example.com")
	offer := a.must(201, "POST", "/v1/offers", key, map[string]any{"name": "5 sessions", "kind": "sessions", "sessions": 5, "price_amount": 25000})
	cl := a.must(201, "POST", "/v1/clients", key, map[string]any{"name": "Emma Clarke", "email": "emma@example.com", "locale": "en"})
	for range 2 {
		co := a.must(201, "POST", "/v1/checkout", key, map[string]any{"client_id": cl["id"], "offer_id": offer["id"]})
		r, err := http.PostForm(a.base+localCheckoutPath(co), url.Values{"action": {"card"}})
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
	}
	link := a.must(201, "POST", "/v1/clients/"+id(cl)+"/links", key, map[string]any{"ttl_hours": 48})["url"].(string)
	cookie := clientSession(t, a, link)
	page := func() string { return clientPage(t, a, cookie, "/client") }
	proxy.Inject(stripefault.Rule{Method: "GET", Path: "/v1/*", Fault: stripefault.DropBefore})
	if txt := page(); strings.Count(txt, "Stripe receipt") != 0 || strings.Count(txt, "€250.00") < 2 {
		t.Fatalf("while Stripe fails the page should list both payments without links:\n%s", txt)
	}
	if n := a.count(`SELECT count(*) FROM payment_receipts`); n != 0 {
		t.Fatalf("%d receipts kept from a failing Stripe", n)
	}
	proxy.Clear()
	// The payments' method is asked of Stripe too, by a job of its own
	// (the same reads): once it is done, only receipts would ask again.
	for deadline := time.Now().Add(60 * time.Second); a.count(`SELECT count(*) FROM river_job WHERE kind = 'billing.payment_method'
		AND state NOT IN ('completed', 'discarded', 'cancelled')`) > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the payments' method jobs did not finish")
		}
	}
	if txt := page(); strings.Count(txt, "Stripe receipt") != 2 {
		t.Fatalf("once Stripe answers, both receipts: %d links", strings.Count(txt, "Stripe receipt"))
	}
	// What a receipt reads: its charge or payment intent, by id. (The
	// sweep, run at start once this process is River's leader, which on a
	// busy machine can be now, lists charges and invoices instead.)
	reads := func() int {
		return len(proxy.Seen("GET", "/v1/charges/*")) + len(proxy.Seen("GET", "/v1/payment_intents/*"))
	}
	asked := reads()
	if asked == 0 {
		t.Fatal("the receipts were read without asking Stripe for a charge or an intent")
	}
	if txt := page(); strings.Count(txt, "Stripe receipt") != 2 || reads() != asked {
		t.Errorf("a receipt read once is asked again: %d reads, was %d", reads(), asked)
	}
}

// clientSession opens a client's link and returns the page's session cookie.
func clientSession(t *testing.T, a *app, link string) string {
	t.Helper()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(a.base + strings.TrimPrefix(link, a.m.BaseURL))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	for _, c := range res.Cookies() {
		if c.Name == "carnet_client" && c.Value != "" {
			return c.Value
		}
	}
	t.Fatalf("the link gave no session: %d", res.StatusCode)
	return ""
}

// coachSession signs in with key and returns the coach's session cookie.
func coachSession(t *testing.T, a *app, key string) string {
	t.Helper()
	_, session, err := auth.SignInWithKey(context.Background(), a.m.DB, key, "", a.clock())
	if err != nil {
		t.Fatal(err)
	}
	return session
}

// clientPage reads one of the client's pages with their session cookie.
func clientPage(t *testing.T, a *app, cookie, path string) string {
	t.Helper()
	r := a.do("GET", path, "", nil, "Cookie", "carnet_client="+cookie)
	if r.Status != 200 {
		t.Fatalf("%s: %d %s", path, r.Status, r.Body)
	}
	return string(r.Body)
}

// Scheduling an individual session with two participants is refused with
// the participants still ticked, the time and title as typed.
func TestRefusedScheduleKeepsItsParticipants(t *testing.T) {
	t.Parallel()
	a := startApp(t)
	key := a.coach("seances@example.com")
	session := coachSession(t, a, key)
	var ids []string
	for _, e := range []string{"ana@example.com", "bob@example.com"} {
		ids = append(ids, id(a.must(201, "POST", "/v1/clients", key, map[string]any{"name": e, "email": e})))
	}
	r := a.do("POST", "/app/sessions", "", url.Values{"form": {"schedule"}, "client_id": ids, "kind": {"individual"},
		"title": {"Yoga du soir"}, "starts_at": {"2026-11-05T18:30"}, "duration_minutes": {"45"}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded", "Cookie", "carnet_session="+session)
	if r.Status != 400 {
		t.Fatalf("an individual session for two: %d", r.Status)
	}
	for _, w := range []string{`value="` + ids[0] + `" checked>`, `value="` + ids[1] + `" checked>`, `value="Yoga du soir"`,
		`value="2026-11-05T18:30"`, `value="45"`, `<p class="field-error" id="client_ids-error">`} {
		if !strings.Contains(string(r.Body), w) {
			t.Errorf("the form lacks %q:\n%s", w, r.Body)
		}
	}
	if n := a.count(`SELECT count(*) FROM sessions`); n != 0 {
		t.Fatalf("a refused schedule left %d sessions", n)
	}
}
