package packs

import (
	"strings"
	"testing"
	"time"

	"carnet/internal/i18n"
)

func agreementTerms(locale string) AgreementTerms {
	paris, _ := time.LoadLocation("Europe/Paris")
	ten, days := 10, 90
	on := time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC) // already 1 December in Paris
	ch := Charter{ID: 4, Version: 3, NoticeHours: 24, LateCancelAction: ActionFee, LateCancelFee: 3000,
		NoShowAction: ActionDeduct, GraceDays: 7, Currency: "EUR", AutoRefundExcess: true,
		Agreement: Agreement{
			"fr": {Included: "Programme écrit\nSuivi par message", Excluded: "Matériel", SessionLength: "60 minutes",
				Frequency: "une par semaine", Extras: "Séance en visio : 10 €", FreeText: "Apportez de l'eau."},
			"en": {Included: "Written programme", SessionLength: "one hour"},
		}}
	return AgreementTerms{Locale: locale, Location: paris, On: on, CoachName: "Maud", CoachEmail: "maud@example.com",
		CoachLocale: "fr", ClientName: "Léa", ClientEmail: "lea@example.com", ClientPhone: "+33 6 00 00 00 00",
		Offer: Offer{Name: "Dix séances", Kind: KindSessions, Sessions: &ten, ValidityDays: &days, PriceAmount: 45001, Currency: "EUR"},
		Plan:  "installments",
		Dues: []AgreementDue{{At: on, Amount: 15001}, {At: time.Date(2027, 1, 1, 9, 0, 0, 0, time.UTC), Amount: 15000},
			{At: time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC), Amount: 15000}},
		Charter: ch}
}

// The agreement states every point in the client's language, the plan's
// dates in the coach's time zone, and the rules of the charter in words.
func TestRenderAgreementStatesEveryPoint(t *testing.T) {
	cases := map[string][]string{
		"fr": {"Accord de suivi entre Maud et Léa", "version 3", "Léa, lea@example.com, +33 6 00 00 00 00",
			"10 séances, valables 90 jours", "Prix : 450,01 €.", "Payé en 3 mensualités",
			"Mensualité 1, le 1 décembre 2026 : 150,01 €.", "Mensualité 3, le 1 février 2027 : 150,00 €.",
			"restent utilisables 7 jours", "Durée d'une séance : 60 minutes", "Fréquence : une par semaine",
			"Programme écrit\nSuivi par message", "Matériel", "Séance en visio : 10 €", "Apportez de l'eau.",
			"au moins 24 heures avant", "des frais de 30,00 €", "absence sans annulation est décomptée",
			"annulée par le coach ne vous coûte jamais rien", "remboursé automatiquement"},
		"en": {"Coaching agreement between Maud and Léa", "10 sessions, valid for 90 days", "Price: €450.01.",
			"Installment 1, on December 1, 2026: €150.01.", "Length of a session: one hour",
			// Points the coach wrote in French only are shown in French.
			"Frequency: une par semaine", "Written programme", "a fee of €30.00", "never costs you anything"},
		"es": {"Acuerdo de seguimiento entre Maud y Léa", "10 sesiones, válidas 90 días", "Precio: 450,01 €.",
			"Cuota 2, el 1 de enero de 2027: 150,00 €.", "24 horas", "un cargo de 30,00 €"},
	}
	for locale, want := range cases {
		doc := RenderAgreement(agreementTerms(locale))
		text := doc.Text()
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: agreement lacks %q:\n%s", locale, w, text)
			}
		}
		if strings.Contains(text, "agreement.") {
			t.Errorf("%s: a message id instead of words:\n%s", locale, text)
		}
		if doc.Locale != locale || len(doc.SHA256()) != 64 {
			t.Errorf("%s: locale %q hash %q", locale, doc.Locale, doc.SHA256())
		}
		if back := ParseAgreementText(text); back.Text() != text {
			t.Errorf("%s: parsing the stored text back changed it", locale)
		}
	}
}

// Each charter action reads as what it does, in every language; one of a
// thing takes the CLDR singular.
func TestRenderAgreementRules(t *testing.T) {
	for _, c := range []struct {
		late, noShow string
		hours        int
		want         map[string]string
	}{
		{ActionDeduct, ActionNone, 1, map[string]string{"fr": "moins de 1 heure avant son début, elle est décomptée",
			"en": "less than 1 hour before it starts, it is counted", "es": "menos de 1 hora de antelación, se descuenta"}},
		{ActionNone, ActionFee, 48, map[string]string{"fr": "elle ne coûte rien non plus", "en": "costs a fee of €20.00",
			"es": "cuesta un cargo de 20,00 €"}},
	} {
		for locale, want := range c.want {
			terms := agreementTerms(locale)
			terms.Charter.LateCancelAction, terms.Charter.LateCancelFee = c.late, 0
			terms.Charter.NoShowAction, terms.Charter.NoShowFee = c.noShow, 2000
			terms.Charter.NoticeHours = c.hours
			if text := RenderAgreement(terms).Text(); !strings.Contains(text, want) {
				t.Errorf("%s %s/%s: lacks %q:\n%s", locale, c.late, c.noShow, want, text)
			}
		}
	}
	// A period pack, paid upfront, under the defaults.
	months, cap := 1, 2
	terms := agreementTerms("fr")
	terms.Offer = Offer{Name: "Un mois", Kind: KindPeriod, Months: &months, WeeklyCap: &cap, PriceAmount: 12000, Currency: "EUR"}
	terms.Plan, terms.Dues, terms.Charter = "upfront", terms.Dues[:1], DefaultCharter
	text := RenderAgreement(terms).Text()
	for _, w := range []string{"1 mois d'accès", "Au plus 2 séances par semaine.", "Payé en une fois le 1 décembre 2026 : 150,01 €.",
		"charte par défaut"} {
		if !strings.Contains(text, w) {
			t.Errorf("period pack lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, "prélèvement échoue") {
		t.Errorf("an upfront pack speaks of failed debits:\n%s", text)
	}
}

func TestAgreementPointsAreChecked(t *testing.T) {
	if _, err := (Agreement{"de": {Included: "x"}}).check(); err == nil {
		t.Error("a locale Carnet does not write in was accepted")
	}
	if _, err := (Agreement{"fr": {Extras: strings.Repeat("x", maxPoint+1)}}).check(); err == nil {
		t.Error("an overlong point was accepted")
	}
	got, err := (Agreement{"fr": {Included: "  a\r\n\n\n b "}, "es": {}}).check()
	if err != nil || got["fr"].Included != "a\n b" || len(got) != 1 {
		t.Errorf("cleaned %v, %v", got, err)
	}
}

func TestAgreementCatalogIsComplete(t *testing.T) {
	for _, id := range Texts.IDs() {
		for _, l := range i18n.Locales {
			if s := Texts.T(l, id, "Count", 2); s == id {
				t.Errorf("%s: %s is not written", l, id)
			}
		}
	}
}
