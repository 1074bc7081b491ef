package packs

import (
	"context"
	"strings"
	"testing"
	"time"

	"carnet/internal/i18n"
	"carnet/notify"
)

// message returns the newest message of template to the client, rendered
// from the outbox as the dispatcher renders it.
func (w *world) message(clientID int64, template string) string {
	w.t.Helper()
	d := &notify.Dispatcher{DB: w.s.DB, Now: w.clock}
	if _, err := d.RunOnce(context.Background()); err != nil {
		w.t.Fatal(err)
	}
	list, err := notify.List(context.Background(), w.s.DB, w.coach.ID, 100)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, n := range list {
		if n.ClientID != nil && *n.ClientID == clientID && n.Template == template {
			return n.Body
		}
	}
	w.t.Fatalf("no %s message to client %d", template, clientID)
	return ""
}

func (w *world) localeClient(name, locale string) Client {
	w.t.Helper()
	c := w.client(name)
	if _, err := w.s.UpdateClient(context.Background(), w.coach.ID, c.ID, ClientInput{Locale: &locale}); err != nil {
		w.t.Fatal(err)
	}
	return c
}

// Point 16 of issue 11: one goodwill session is spoken of in the singular,
// two in the plural, in every language.
func TestGoodwillMessageAgreesWithItsCount(t *testing.T) {
	t.Parallel()
	available := map[string][2]string{
		"fr": {"Elle est déjà disponible", "Elles sont déjà disponibles"},
		"es": {"Ya está disponible", "Ya están disponibles"},
		"en": {"It is available", "They are available"},
	}
	gift := map[string][2]string{"fr": {"séance offerte", "séances offertes"}, "es": {"sesión de regalo", "sesiones de regalo"},
		"en": {"free session", "free sessions"}}
	w := newWorld(t)
	for _, l := range i18n.Locales {
		for _, n := range []int{1, 2} {
			c := w.localeClient(l+string(rune('a'+n)), l)
			w.pack(c.ID, 5)
			if _, err := w.s.GrantGoodwill(context.Background(), w.coach, GoodwillInput{ClientIDs: []int64{c.ID}, Sessions: n,
				Note: "séance du 3 annulée"}); err != nil {
				t.Fatal(err)
			}
			var given int64
			_ = w.s.DB.Get(&given, `SELECT delta FROM ledger_entries WHERE client_id = $1 AND kind = 'goodwill'`, c.ID)
			body := w.message(c.ID, notify.GoodwillGranted)
			form := 0
			if !i18n.One(l, given) {
				form = 1
			}
			if !strings.Contains(body, available[l][form]) || strings.Contains(body, available[l][1-form]) ||
				!strings.Contains(body, i18n.Plural(l, given, gift[l][0], gift[l][1])) {
				t.Errorf("(%s) %d goodwill sessions told as:\n%s", l, given, body)
			}
		}
	}
}

// Point 16 too: a period pack has no balance to run low; its purchase
// message promises only what will be sent, and states its weekly cap.
func TestPeriodPurchaseMessage(t *testing.T) {
	t.Parallel()
	lowPromise := map[string]string{"fr": "il vous restera", "es": "te quede", "en": "left and"}
	capWords := map[string][2]string{"fr": {"séance", "séances"}, "es": {"sesión", "sesiones"}, "en": {"session", "sessions"}}
	w := newWorld(t)
	months, capped, price := 2, 2, int64(20000)
	o, err := w.s.CreateOffer(context.Background(), w.coach, OfferInput{Name: "2 mois", Kind: KindPeriod, Months: &months,
		WeeklyCap: &capped, PriceAmount: &price})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range i18n.Locales {
		c := w.localeClient("p"+l, l)
		p, err := w.s.RecordManualPack(context.Background(), w.coach, c.ID, ManualPackInput{OfferID: o.ID, Method: "cash"})
		if err != nil {
			t.Fatal(err)
		}
		body := w.message(c.ID, notify.PackPurchased)
		loc, _ := time.LoadLocation(w.coach.Timezone)
		for _, want := range []string{i18n.Money(p.PriceAmount, p.Currency, l), i18n.Date(p.ValidUntil.In(loc), l),
			i18n.Plural(l, int64(*p.WeeklyCap), capWords[l][0], capWords[l][1])} {
			if !strings.Contains(body, want) {
				t.Errorf("(%s) the period pack's purchase message lacks %q:\n%s", l, want, body)
			}
		}
		if strings.Contains(body, lowPromise[l]) || strings.Contains(body, " 0 "+capWords[l][0]) || strings.Contains(body, " 0 "+capWords[l][1]) {
			t.Errorf("(%s) the period pack's purchase message speaks of sessions left:\n%s", l, body)
		}
	}
}
