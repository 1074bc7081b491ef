package notify

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"
	"math"
	"strconv"
	"strings"
	"text/template"

	"carnet/internal/i18n"
)

// Template names. Each exists in fr, es and en (templates/<locale>/<name>.tmpl)
// and defines a "subject" and a "body". The data keys each one needs are
// listed beside it; every value is a string already formatted for the
// recipient's locale (i18n.Money, i18n.Date, i18n.Month) or a number.
// A key missing from the data is an error, never "<no value>".
const (
	// PackPurchased: ClientName, CoachName, OfferName, Amount (what was
	// received: the whole price, or the first installment), Installments
	// (number of payments in the plan), NextAmount and NextDate (the next
	// debit; empty when paid in one go), Kind ("sessions" or "period"),
	// SessionsLeft, LowAt (number: the balance that brings a reminder),
	// WeeklyCap (number, 0 for none), ValidUntil.
	PackPurchased = "pack_purchased"
	// LowBalance (2 sessions left): ClientName, CoachName, OfferName,
	// SessionsLeft (number), ValidUntil.
	LowBalance = "low_balance"
	// PackExpiring (in 7 days): ClientName, CoachName, OfferName,
	// SessionsLeft (number), ExpiresOn.
	PackExpiring = "pack_expiring"
	// InstallmentDue (in 3 days): ClientName, CoachName, OfferName, Amount, DueDate.
	InstallmentDue = "installment_due"
	// InstallmentFailed: ClientName, CoachName, OfferName, Amount, DueDate,
	// GraceDays (number: days after the due date before sessions pause),
	// UsableUntil (that day).
	InstallmentFailed = "installment_failed"
	// AnomalyOpenedClient: ClientName, CoachName, OfferName, Kind (the
	// anomaly kind code, e.g. "duplicate_charge"; told in plain words),
	// Excess (money paid too much, formatted), WhatWeDo ("refund",
	// "review_refund", "retry", "ended", "missed" or "review"), Updated
	// (bool: it replaces an earlier message whose facts changed).
	AnomalyOpenedClient = "anomaly_opened_client"
	// AnomalyOpenedCoach, in the coach's language: ClientName, CoachName,
	// OfferName (empty for a payment that matches no pack), KindText (the
	// kind in words), Facts (rows of label and value, formatted), ClientTold
	// (bool: whether the client got a message about it), Link (the anomaly
	// in the coach's app), Updated (bool).
	AnomalyOpenedCoach = "anomaly_opened_coach"
	// AnomalyResolved: ClientName, CoachName, OfferName.
	AnomalyResolved = "anomaly_resolved"
	// GoodwillGranted: ClientName, CoachName, OfferName, Sessions (number
	// given back), Reason (the coach's words).
	GoodwillGranted = "goodwill_granted"
	// GoodwillConsultation (goodwill given as a consultation, not as
	// sessions): ClientName, CoachName, Minutes (number), Value (what it is
	// worth, formatted; empty when the coach gave no value), Reason (the
	// coach's words), SessionTitle and SessionDate (the session it makes up
	// for; empty when none), Incident (the incident's words; may be empty
	// when a session is named).
	GoodwillConsultation = "goodwill_consultation"
	// MonthlySummary: ClientName, CoachName, Month (i18n.Month), Sessions
	// (rows: the session's day and time, its outcome and what it cost),
	// Attended, Missed, Cancelled (by the client), CoachCancelled (numbers),
	// HasBalance (bool: the client has a sessions pack), Balance (number of
	// sessions left on them).
	MonthlySummary = "monthly_summary"
	// RelationshipEnded: ClientName, CoachName, EndedOn (a date), Unused
	// ("finish", "refund" or "nothing": what becomes of the sessions left),
	// SessionsLeft (number, on sessions packs), Refund (money refunded
	// through Stripe, formatted; empty when none), RefundByHand (money the
	// coach gives back in person, formatted; empty when none).
	RelationshipEnded = "relationship_ended"
	// CoachSignIn (the coach's one-time sign-in link): CoachName, Link,
	// Minutes (number: how long the link works).
	CoachSignIn = "coach_sign_in"
	// CheckoutLink (the coach sends a pack to pay): ClientName, CoachName,
	// OfferName, Link.
	CheckoutLink = "checkout_link"
	// ClientLink (the client's own page): ClientName, CoachName, Link.
	ClientLink = "client_link"
	// FreshLink (a fresh link to the client's page, asked for from an
	// expired or revoked one): ClientName, CoachName, URL, ValidUntil.
	FreshLink = "fresh_link"
)

// Templates lists every template name.
var Templates = []string{PackPurchased, LowBalance, PackExpiring, InstallmentDue, InstallmentFailed,
	AnomalyOpenedClient, AnomalyOpenedCoach, AnomalyResolved, GoodwillGranted, GoodwillConsultation, MonthlySummary, RelationshipEnded,
	CoachSignIn, CheckoutLink, ClientLink, FreshLink}

// Locales lists the languages Carnet writes in.
var Locales = i18n.Locales

//go:embed templates
var templateFS embed.FS

// parsed holds every template by locale then name, parsed once at start,
// twice: as text and as HTML (html/template escapes the data). A broken or
// missing template stops the program at once.
var parsed = parseAll()

type pair struct {
	text *template.Template
	html *htmltemplate.Template
}

func parseAll() map[string]map[string]pair {
	all := map[string]map[string]pair{}
	for _, locale := range Locales {
		all[locale] = map[string]pair{}
		for _, name := range Templates {
			path := "templates/" + locale + "/" + name + ".tmpl"
			src, err := templateFS.ReadFile(path)
			if err != nil {
				panic(fmt.Sprintf("notify: %s: %v", path, err))
			}
			t := template.Must(template.New(name).Funcs(textFuncs(locale)).Option("missingkey=error").Parse(string(src)))
			if t.Lookup("subject") == nil || t.Lookup("body") == nil {
				panic(fmt.Sprintf("notify: %s must define a subject and a body", path))
			}
			h := htmltemplate.Must(htmltemplate.New(name).Funcs(htmlFuncs(locale)).Option("missingkey=error").Parse(string(src)))
			all[locale][name] = pair{text: t, html: h}
		}
	}
	return all
}

// wholeNumber reads a template's number (an int, or a float64 after JSON).
func wholeNumber(n any) (int64, error) {
	f, err := strconv.ParseFloat(fmt.Sprint(n), 64)
	if err != nil || f != math.Trunc(f) {
		return 0, fmt.Errorf("plural: %v is not a whole number", n)
	}
	return int64(f), nil
}

// colon is how a label meets its value: French sets a space before it.
func colon(locale string) string {
	if locale == "fr" {
		return " : "
	}
	return ": "
}

// textFuncs are the template helpers: {{plural .N "séance" "séances"}}
// writes "2 séances" with the locale's CLDR rule, {{one .N "est" "sont"}}
// picks a word by the same rule, {{row "Montant" .Amount}} is one line of a
// facts table, {{link .URL}} a link.
func textFuncs(locale string) template.FuncMap {
	return template.FuncMap{
		"plural": func(n any, one, many string) (string, error) {
			v, err := wholeNumber(n)
			return i18n.Plural(locale, v, one, many), err
		},
		"one": func(n any, one, many string) (string, error) {
			v, err := wholeNumber(n)
			if i18n.One(locale, v) {
				return one, err
			}
			return many, err
		},
		"row":  func(label string, value any) string { return fmt.Sprintf("%s%s%v", label, colon(locale), value) },
		"link": func(url string) string { return url },
	}
}

// htmlFuncs are textFuncs for the HTML part: a row is a table row (its
// block becomes a table), a link an anchor.
func htmlFuncs(locale string) htmltemplate.FuncMap {
	f := htmltemplate.FuncMap{}
	for k, v := range textFuncs(locale) {
		f[k] = v
	}
	f["row"] = func(label string, value any) htmltemplate.HTML {
		return htmltemplate.HTML("<tr><th align=\"left\">" + htmltemplate.HTMLEscapeString(label) + "</th><td>" +
			htmltemplate.HTMLEscapeString(fmt.Sprint(value)) + "</td></tr>")
	}
	f["link"] = func(url string) htmltemplate.HTML {
		u := htmltemplate.HTMLEscapeString(url)
		return htmltemplate.HTML(`<a href="` + u + `">` + u + `</a>`)
	}
	return f
}

// Rendered is a message ready to send: one subject line, a plain-text body
// and the same body in HTML.
type Rendered struct {
	Subject, Text, HTML string
}

// RenderAll writes the named template in locale (fr when unknown) with data
// as a subject (one line), a text and an HTML body.
func RenderAll(name, locale string, data map[string]any) (Rendered, error) {
	t, ok := parsed[i18n.Norm(locale)][name]
	if !ok {
		return Rendered{}, fmt.Errorf("%w %q", ErrUnknownTemplate, name)
	}
	var s, b, h bytes.Buffer
	if err := t.text.ExecuteTemplate(&s, "subject", data); err != nil {
		return Rendered{}, fmt.Errorf("render %s/%s subject: %w", locale, name, err)
	}
	if err := t.text.ExecuteTemplate(&b, "body", data); err != nil {
		return Rendered{}, fmt.Errorf("render %s/%s body: %w", locale, name, err)
	}
	if err := t.html.ExecuteTemplate(&h, "body", data); err != nil {
		return Rendered{}, fmt.Errorf("render %s/%s html: %w", locale, name, err)
	}
	// A subject is one header line: no line break can get into it.
	subject := strings.Join(strings.Fields(s.String()), " ")
	return Rendered{Subject: subject, Text: strings.TrimSpace(b.String()) + "\n",
		HTML: htmlPage(i18n.Norm(locale), subject, h.String())}, nil
}

// htmlPage lays the escaped body out: blank lines part paragraphs, a block
// of rows is a table, a block of "- " lines a list.
func htmlPage(locale, subject, body string) string {
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"" + locale + "\"><head><meta charset=\"utf-8\"><title>" +
		htmltemplate.HTMLEscapeString(subject) + "</title></head>\n<body style=\"font-family: sans-serif; line-height: 1.4\">\n")
	for _, block := range strings.Split(strings.TrimSpace(strings.ReplaceAll(body, "\r\n", "\n")), "\n\n") {
		lines := strings.Split(strings.Trim(block, "\n"), "\n")
		if len(lines) == 0 || lines[0] == "" {
			continue
		}
		switch {
		case every(lines, func(l string) bool { return strings.HasPrefix(l, "<tr>") }):
			b.WriteString("<table cellpadding=\"4\">\n" + strings.Join(lines, "\n") + "\n</table>\n")
		case every(lines, func(l string) bool { return strings.HasPrefix(l, "- ") }):
			b.WriteString("<ul>\n")
			for _, l := range lines {
				b.WriteString("<li>" + strings.TrimPrefix(l, "- ") + "</li>\n")
			}
			b.WriteString("</ul>\n")
		default:
			b.WriteString("<p>" + strings.Join(lines, "<br>\n") + "</p>\n")
		}
	}
	b.WriteString("</body></html>\n")
	return b.String()
}

func every(lines []string, ok func(string) bool) bool {
	for _, l := range lines {
		if !ok(l) {
			return false
		}
	}
	return true
}

// RenderMessage renders m as the dispatcher will: its data after the trip
// through the outbox's JSON.
func RenderMessage(m Message) (Rendered, error) {
	data, err := json.Marshal(m.Data)
	if err != nil {
		return Rendered{}, fmt.Errorf("data: %w", err)
	}
	return renderStored(m.Template, m.Locale, data)
}

// renderStored renders a message from the data stored with it in the outbox.
func renderStored(name, locale string, stored []byte) (Rendered, error) {
	var data map[string]any
	if err := json.Unmarshal(stored, &data); err != nil {
		return Rendered{}, fmt.Errorf("data: %w", err)
	}
	return RenderAll(name, locale, data)
}
