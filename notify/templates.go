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
	"time"
)

// Template names. Each exists in fr, es and en (templates/<locale>/<name>.tmpl)
// and defines a "subject" and a "body". The data keys each one needs are
// listed beside it; every value is a string already formatted for the
// recipient's locale (FormatMoney, FormatDate, FormatMonth) or a number.
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
)

// Templates lists every template name.
var Templates = []string{PackPurchased, LowBalance, PackExpiring, InstallmentDue, InstallmentFailed,
	AnomalyOpenedClient, AnomalyOpenedCoach, AnomalyResolved, GoodwillGranted, MonthlySummary}

// Locales lists the languages Carnet writes in.
var Locales = []string{"fr", "es", "en"}

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
// "2 séances" with the locale's rule.
func funcs(locale string) template.FuncMap {
	return template.FuncMap{
		"plural": func(n any, one, many string) (string, error) {
			f, err := strconv.ParseFloat(fmt.Sprint(n), 64)
			if err != nil {
				return "", fmt.Errorf("plural: %v is not a number", n)
			}
			word := many
			if math.Abs(f) == 1 || (locale == "fr" && f == 0) {
				word = one
			}
			return strconv.FormatFloat(f, 'f', -1, 64) + " " + word, nil
		},
	}
}

// Render writes the named template in locale (fr when unknown) with data,
// and returns its subject (one line) and its plain-text body.
func Render(name, locale string, data map[string]any) (subject, body string, err error) {
	t, ok := parsed[NormLocale(locale)][name]
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

// decimals is how many minor units a currency has where it is not 2.
var decimals = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "JPY": 0, "KMF": 0, "KRW": 0, "MGA": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3,
}

// FormatMoney writes an amount in minor units for people: 15000 EUR is
// "150,00 €" in fr and es, "€150.00" in en; other currencies keep their code
// ("150,00 USD", "$150.00" for USD and "£150.00" for GBP in en).
func FormatMoney(minor int64, currency, locale string) string {
	currency = strings.ToUpper(currency)
	exp, ok := decimals[currency]
	if !ok {
		exp = 2
	}
	sign := ""
	u := uint64(minor)
	if minor < 0 {
		sign, u = "-", uint64(-minor)
	}
	unit := uint64(1)
	for range exp {
		unit *= 10
	}
	locale = NormLocale(locale)
	point, group := ",", " "
	switch locale {
	case "en":
		point, group = ".", ","
	case "es":
		group = "."
	}
	num := groupDigits(strconv.FormatUint(u/unit, 10), group)
	if exp > 0 {
		num += point + fmt.Sprintf("%0*d", exp, u%unit)
	}
	if locale == "en" {
		switch currency {
		case "EUR":
			return sign + "€" + num
		case "USD":
			return sign + "$" + num
		case "GBP":
			return sign + "£" + num
		}
		return sign + num + " " + currency
	}
	if currency == "EUR" {
		return sign + num + " €"
	}
	return sign + num + " " + currency
}

func groupDigits(s, sep string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	head := len(s) % 3
	if head > 0 {
		b.WriteString(s[:head])
	}
	for i := head; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

var monthNames = map[string][12]string{
	"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
	"es": {"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
}

// FormatDate writes a day for people in locale: "2 mars 2026",
// "2 de marzo de 2026", "March 2, 2026". Pass t in the coach's time zone.
func FormatDate(t time.Time, locale string) string {
	locale = NormLocale(locale)
	m := monthNames[locale][t.Month()-1]
	switch locale {
	case "es":
		return fmt.Sprintf("%d de %s de %d", t.Day(), m, t.Year())
	case "en":
		return fmt.Sprintf("%s %d, %d", m, t.Day(), t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), m, t.Year())
}

// FormatMonth writes a month for people: "mars 2026", "marzo de 2026", "March 2026".
func FormatMonth(t time.Time, locale string) string {
	locale = NormLocale(locale)
	m := monthNames[locale][t.Month()-1]
	if locale == "es" {
		return fmt.Sprintf("%s de %d", m, t.Year())
	}
	return fmt.Sprintf("%s %d", m, t.Year())
}

// renderStored renders a message from the data stored with it in the outbox.
func renderStored(name, locale string, stored []byte) (subject, body string, err error) {
	var data map[string]any
	if err := json.Unmarshal(stored, &data); err != nil {
		return "", "", fmt.Errorf("data: %w", err)
	}
	return Render(name, locale, data)
}
