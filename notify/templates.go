package notify

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
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
	// PackPurchased: ClientName, CoachName, OfferName, Amount, ValidUntil.
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
	// GraceDays (number: days before sessions are paused).
	InstallmentFailed = "installment_failed"
	// AnomalyOpenedClient: ClientName, CoachName, OfferName, Kind (the
	// anomaly kind code, e.g. "duplicate_charge"; told in plain words),
	// Excess (money paid too much, formatted), WhatWeDo ("refund",
	// "review_refund", "retry" or "review").
	AnomalyOpenedClient = "anomaly_opened_client"
	// AnomalyOpenedCoach: the same keys as AnomalyOpenedClient (OfferName
	// empty for a payment that matches no pack) plus Evidence (the
	// anomaly's evidence as JSON text, shown as is) and ClientTold (bool:
	// whether the client got a message of their own about it).
	AnomalyOpenedCoach = "anomaly_opened_coach"
	// AnomalyResolved: ClientName, CoachName, OfferName.
	AnomalyResolved = "anomaly_resolved"
	// GoodwillGranted: ClientName, CoachName, OfferName, Sessions (number
	// given back), Reason (the coach's words).
	GoodwillGranted = "goodwill_granted"
	// MonthlySummary: ClientName, CoachName, Month (FormatMonth), Attended,
	// Cancelled, Missed (numbers).
	MonthlySummary = "monthly_summary"
	// CoachSignIn (the coach's one-time sign-in link): CoachName, Link,
	// Minutes (number: how long the link works).
	CoachSignIn = "coach_sign_in"
)

// Templates lists every template name.
var Templates = []string{PackPurchased, LowBalance, PackExpiring, InstallmentDue, InstallmentFailed,
	AnomalyOpenedClient, AnomalyOpenedCoach, AnomalyResolved, GoodwillGranted, MonthlySummary, CoachSignIn}

// Locales lists the languages Carnet writes in.
var Locales = i18n.Locales

//go:embed templates
var templateFS embed.FS

// parsed holds every template by locale then name, parsed once at start: a
// broken or missing template stops the program at once.
var parsed = parseAll()

func parseAll() map[string]map[string]*template.Template {
	all := map[string]map[string]*template.Template{}
	for _, locale := range Locales {
		all[locale] = map[string]*template.Template{}
		for _, name := range Templates {
			path := "templates/" + locale + "/" + name + ".tmpl"
			src, err := templateFS.ReadFile(path)
			if err != nil {
				panic(fmt.Sprintf("notify: %s: %v", path, err))
			}
			t := template.Must(template.New(name).Funcs(funcs(locale)).Option("missingkey=error").Parse(string(src)))
			if t.Lookup("subject") == nil || t.Lookup("body") == nil {
				panic(fmt.Sprintf("notify: %s must define a subject and a body", path))
			}
			all[locale][name] = t
		}
	}
	return all
}

// funcs are the template helpers: {{plural .N "séance" "séances"}} writes
// "2 séances" with the locale's CLDR rule.
func funcs(locale string) template.FuncMap {
	return template.FuncMap{
		"plural": func(n any, one, many string) (string, error) {
			f, err := strconv.ParseFloat(fmt.Sprint(n), 64)
			if err != nil || f != math.Trunc(f) {
				return "", fmt.Errorf("plural: %v is not a whole number", n)
			}
			return i18n.Plural(locale, int64(f), one, many), nil
		},
	}
}

// Render writes the named template in locale (fr when unknown) with data,
// and returns its subject (one line) and its plain-text body.
func Render(name, locale string, data map[string]any) (subject, body string, err error) {
	t, ok := parsed[i18n.Norm(locale)][name]
	if !ok {
		return "", "", fmt.Errorf("%w %q", ErrUnknownTemplate, name)
	}
	var s, b bytes.Buffer
	if err := t.ExecuteTemplate(&s, "subject", data); err != nil {
		return "", "", fmt.Errorf("render %s/%s subject: %w", locale, name, err)
	}
	if err := t.ExecuteTemplate(&b, "body", data); err != nil {
		return "", "", fmt.Errorf("render %s/%s body: %w", locale, name, err)
	}
	// A subject is one header line: no line break can get into it.
	subject = strings.Join(strings.Fields(s.String()), " ")
	return subject, strings.TrimSpace(b.String()) + "\n", nil
}

// renderStored renders a message from the data stored with it in the outbox.
func renderStored(name, locale string, stored []byte) (subject, body string, err error) {
	var data map[string]any
	if err := json.Unmarshal(stored, &data); err != nil {
		return "", "", fmt.Errorf("data: %w", err)
	}
	return Render(name, locale, data)
}
