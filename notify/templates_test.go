package notify

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
)

// documented is each template's data, exactly the keys its doc comment lists.
var documented = map[string]map[string]any{
	PackPurchased: {"ClientName": "Léa", "CoachName": "Marc", "OfferName": "10 séances", "Amount": "150,00 €",
		"Installments": 3, "NextAmount": "150,00 €", "NextDate": "2 décembre 2026", "Kind": "sessions",
		"SessionsLeft": 10, "LowAt": 2, "WeeklyCap": 0, "ValidUntil": "2 mars 2026"},
	LowBalance: {"ClientName": "Léa", "CoachName": "Marc", "OfferName": "10 séances", "SessionsLeft": 2,
		"ValidUntil": "2 mars 2026"},
	PackExpiring: {"ClientName": "Léa", "CoachName": "Marc", "OfferName": "10 séances", "SessionsLeft": 3,
		"ExpiresOn": "2 mars 2026"},
	InstallmentDue: {"ClientName": "Léa", "CoachName": "Marc", "OfferName": "3 mois", "Amount": "50,00 €",
		"DueDate": "2 mars 2026"},
	InstallmentFailed: {"ClientName": "Léa", "CoachName": "Marc", "OfferName": "3 mois", "Amount": "50,00 €",
		"DueDate": "2 mars 2026", "GraceDays": 5, "UsableUntil": "7 mars 2026"},
	AnomalyOpenedClient: {"ClientName": "Léa", "CoachName": "Marc", "OfferName": "3 mois",
		"Kind": "installments_at_once", "Excess": "100,00 €", "WhatWeDo": "refund", "Updated": false},
	AnomalyOpenedCoach: {"ClientName": "Léa", "CoachName": "Marc", "OfferName": "3 mois",
		"KindText": "Échéances prélevées d'un coup", "Facts": [][2]string{{"Prélevé", "100,00 € (in_1)"}},
		"ClientTold": true, "Link": "http://carnet.test/app/anomalies/1", "Updated": false},
	AnomalyResolved: {"ClientName": "Léa", "CoachName": "Marc", "OfferName": "3 mois"},
	GoodwillGranted: {"ClientName": "Léa", "CoachName": "Marc", "OfferName": "10 séances", "Sessions": 1,
		"Reason": "séance du 3 annulée"},
	GoodwillConsultation: {"ClientName": "Léa", "CoachName": "Marc", "Minutes": 30, "Value": "82,00 €",
		"Reason": "coupure de courant", "SessionTitle": "Groupe", "SessionDate": "mardi 3 mars, 18:00", "Incident": ""},
	MonthlySummary: {"ClientName": "Léa", "CoachName": "Marc", "Month": "mars 2026",
		"Sessions": [][2]string{{"lundi 2 mars 10:00", "suivie, 1 séance décomptée"}}, "Attended": 6,
		"Missed": 0, "Cancelled": 1, "CoachCancelled": 1, "HasBalance": true, "Balance": 3},
	RelationshipEnded: {"ClientName": "Léa", "CoachName": "Marc", "EndedOn": "2 mars 2026", "Unused": "refund",
		"SessionsLeft": 3, "Refund": "135,00 €", "RefundByHand": ""},
	CoachSignIn:  {"CoachName": "Marc", "Link": "https://carnet.example/app/signin/t", "Minutes": 15},
	CheckoutLink: {"ClientName": "Léa", "CoachName": "Marc", "OfferName": "10 séances", "Link": "https://checkout.example/c"},
	ClientLink:   {"ClientName": "Léa", "CoachName": "Marc", "Link": "https://carnet.example/c/cl_x"},
	FreshLink: {"ClientName": "Léa", "CoachName": "Marc", "URL": "https://carnet.example/c/cl_x",
		"ValidUntil": "9 mars 2026"},
}

func TestEveryTemplateRendersInEveryLocale(t *testing.T) {
	if len(documented) != len(Templates) {
		t.Fatalf("documented data for %d templates, want %d", len(documented), len(Templates))
	}
	for _, name := range Templates {
		for _, locale := range Locales {
			// As stored: the data after its trip through jsonb.
			data := roundTrip(t, documented[name])
			subject, body, err := render(name, locale, data)
			if err != nil {
				t.Fatalf("%s/%s: %v", locale, name, err)
			}
			for _, s := range []string{subject, body} {
				if strings.Contains(s, "<no value>") || strings.Contains(s, "{{") || strings.Contains(s, "%!") {
					t.Errorf("%s/%s renders a hole:\n%s\n%s", locale, name, subject, body)
				}
			}
			if subject == "" || strings.ContainsAny(subject, "\r\n") || len(body) < 80 {
				t.Errorf("%s/%s: subject %q, body %q", locale, name, subject, body)
			}
			if !strings.Contains(body, "Marc") {
				t.Errorf("%s/%s does not name the coach:\n%s", locale, name, body)
			}
		}
	}
}

// branchOnly are keys a template reads in one branch only (a weekly cap
// exists for period packs alone).
var branchOnly = map[string]map[string]bool{PackPurchased: {"WeeklyCap": true}}

// Each documented key is needed: without it, every locale refuses to render.
func TestEveryDocumentedKeyIsRequired(t *testing.T) {
	for name, data := range documented {
		for key := range data {
			if branchOnly[name][key] {
				continue
			}
			less := maps.Clone(data)
			delete(less, key)
			for _, locale := range Locales {
				if _, _, err := render(name, locale, less); err == nil {
					t.Errorf("%s/%s renders without %s: document it as optional or use it", locale, name, key)
				}
			}
		}
	}
}

func TestClientAnomalyInPlainWords(t *testing.T) {
	kinds := []string{"installments_at_once", "duplicate_charge", "amount_mismatch", "unmatched_payment",
		"failed_installment", "missed_installment", "refund_or_dispute", "charge_after_end", "something_new"}
	for _, locale := range Locales {
		for _, kind := range kinds {
			for _, weDo := range []string{"refund", "review_refund", "retry", "ended", "missed", "dispute", "decided", "review"} {
				data := maps.Clone(documented[AnomalyOpenedClient])
				data["Kind"], data["WhatWeDo"] = kind, weDo
				subject, body, err := render(AnomalyOpenedClient, locale, data)
				if err != nil {
					t.Fatal(err)
				}
				text := strings.ToLower(subject + body)
				// Codes (snake_case) are for machines, never shown to a client.
				for _, jargon := range []string{"anomal", "webhook", "invoice", "stripe", "_"} {
					if strings.Contains(text, jargon) {
						t.Errorf("%s client message (%s, %s) says %q:\n%s", locale, kind, weDo, jargon, body)
					}
				}
				if strings.Contains(weDo, "refund") && !strings.Contains(body, "100,00 €") {
					t.Errorf("%s (%s) does not say how much comes back:\n%s", locale, weDo, body)
				}
			}
		}
	}
	_, body, err := render(AnomalyOpenedClient, "fr", documented[AnomalyOpenedClient])
	if err != nil {
		t.Fatal(err)
	}
	for _, word := range []string{"Bonjour Léa", "mensualités", "remboursons", "vous n'avez rien à faire"} {
		if !strings.Contains(body, word) {
			t.Errorf("the French client message lacks %q:\n%s", word, body)
		}
	}
	coach, err := RenderAll(AnomalyOpenedCoach, "fr", roundTrip(t, documented[AnomalyOpenedCoach]))
	if err != nil || !strings.Contains(coach.Subject, "Échéances prélevées d'un coup") || !strings.Contains(coach.Text, "Prélevé : 100,00 € (in_1)") ||
		!strings.Contains(coach.Text, "http://carnet.test/app/anomalies/1") || strings.Contains(coach.Text, "{") {
		t.Errorf("the coach's message lacks the kind, the facts or the link (%v):\n%s", err, coach.Text)
	}
	// The HTML part: the facts as a table, the link an anchor, the data escaped.
	for _, want := range []string{"<table", "<th align=\"left\">Prélevé</th><td>100,00 € (in_1)</td>",
		`<a href="http://carnet.test/app/anomalies/1">`, "Échéances prélevées d&#39;un coup"} {
		if !strings.Contains(coach.HTML, want) {
			t.Errorf("the coach's HTML lacks %q:\n%s", want, coach.HTML)
		}
	}
	// A payment that matches no pack: no offer to name, and no client message.
	stranger := maps.Clone(documented[AnomalyOpenedCoach])
	stranger["OfferName"], stranger["ClientTold"] = "", false
	for _, loc := range Locales {
		subject, body, err := render(AnomalyOpenedCoach, loc, roundTrip(t, stranger))
		if err != nil || strings.Contains(subject+body, "«  »") || strings.Contains(subject+body, `""`) ||
			!strings.Contains(body, "Stripe") {
			t.Errorf("%s coach message for an unmatched payment (%v):\n%s\n%s", loc, err, subject, body)
		}
	}
}

func TestRenderErrors(t *testing.T) {
	if _, _, err := render("pack_bought", "fr", documented[PackPurchased]); !errors.Is(err, ErrUnknownTemplate) {
		t.Errorf("unknown template: %v", err)
	}
	fr, _, _ := render(PackPurchased, "fr", documented[PackPurchased])
	de, _, err := render(PackPurchased, "de", documented[PackPurchased])
	if err != nil || de != fr {
		t.Errorf("an unknown locale is French: %q, %v", de, err)
	}
	if _, _, err := render(LowBalance, "en", map[string]any{"ClientName": "x"}); err == nil ||
		!strings.Contains(err.Error(), "no entry for key") {
		t.Errorf("missing key: %v", err)
	}
	// A subject cannot carry a line break into the mail header.
	data := maps.Clone(documented[AnomalyResolved])
	data["OfferName"] = "x\r\nBcc: someone@example.com"
	subject, _, _ := render(AnomalyResolved, "en", data)
	if strings.ContainsAny(subject, "\r\n") {
		t.Errorf("subject %q", subject)
	}
}

func TestPlural(t *testing.T) {
	cases := []struct {
		locale string
		n      any
		want   string
	}{
		{"fr", 2, "Plus que 2 séances"}, {"fr", 1, "Plus que 1 séance "}, {"fr", float64(0), "Plus que 0 séance "},
		{"en", 1, "Only 1 session "}, {"en", float64(2), "Only 2 sessions"}, {"es", 1, "quedan 1 sesión "},
	}
	for _, c := range cases {
		data := maps.Clone(documented[LowBalance])
		data["SessionsLeft"] = c.n
		subject, _, err := render(LowBalance, c.locale, data)
		if err != nil || !strings.Contains(subject, c.want) {
			t.Errorf("%s %v: %q, %v", c.locale, c.n, subject, err)
		}
	}
}

func roundTrip(t *testing.T, data map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(data)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// render is RenderMessage, the outbox's own path (the data after its trip
// through JSON), as a subject and a text.
func render(name, locale string, data map[string]any) (subject, body string, err error) {
	r, err := RenderMessage(Message{Template: name, Locale: locale, Data: data})
	return r.Subject, r.Text, err
}
