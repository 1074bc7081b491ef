package packs

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"carnet/internal/errs"
	"carnet/internal/i18n"
)

// AgreementPoints are the written points of an agreement in one language,
// as the coach writes them.
type AgreementPoints struct {
	Included      string `json:"included,omitempty"`
	Excluded      string `json:"excluded,omitempty"`
	SessionLength string `json:"session_length,omitempty"`
	Frequency     string `json:"frequency,omitempty"`
	Extras        string `json:"extras,omitempty"`
	FreeText      string `json:"free_text,omitempty"`
}

// Agreement holds a charter version's points by locale (fr, es, en).
type Agreement map[string]AgreementPoints

// maxPoint bounds one point's text.
const maxPoint = 4000

var blankLines = regexp.MustCompile(`\n[ \t]*\n+`)

// cleanPoint trims a point and folds blank lines: a blank line separates the
// sections of the agreement's text, so the coach's words never make one.
func cleanPoint(s string) string {
	s = strings.ReplaceAll(strings.TrimSpace(s), "\r", "")
	return blankLines.ReplaceAllString(s, "\n")
}

// check validates and cleans the points; a locale with no point is dropped.
func (a Agreement) check() (Agreement, error) {
	out := Agreement{}
	for l, p := range a {
		if !i18n.Valid(l) {
			return nil, errs.Field("agreement", "locales are fr, es and en, not %q", l)
		}
		fields := []*string{&p.Included, &p.Excluded, &p.SessionLength, &p.Frequency, &p.Extras, &p.FreeText}
		empty := true
		for _, f := range fields {
			if *f = cleanPoint(*f); len(*f) > maxPoint {
				return nil, errs.Field("agreement", "each point holds at most %d characters", maxPoint)
			}
			empty = empty && *f == ""
		}
		if !empty {
			out[l] = p
		}
	}
	return out, nil
}

// In returns the points for a reader of locale. A point the coach did not
// write in that language is taken from the coach's own language, then from
// any other: the client reads every point the coach agreed to.
func (a Agreement) In(locale, coachLocale string) AgreementPoints {
	order := []string{i18n.Norm(locale), i18n.Norm(coachLocale)}
	order = append(order, i18n.Locales...)
	pick := func(get func(AgreementPoints) string) string {
		for _, l := range order {
			if s := get(a[l]); s != "" {
				return s
			}
		}
		return ""
	}
	return AgreementPoints{
		Included:      pick(func(p AgreementPoints) string { return p.Included }),
		Excluded:      pick(func(p AgreementPoints) string { return p.Excluded }),
		SessionLength: pick(func(p AgreementPoints) string { return p.SessionLength }),
		Frequency:     pick(func(p AgreementPoints) string { return p.Frequency }),
		Extras:        pick(func(p AgreementPoints) string { return p.Extras }),
		FreeText:      pick(func(p AgreementPoints) string { return p.FreeText }),
	}
}

// Scan reads the jsonb column.
func (a *Agreement) Scan(src any) error {
	b, ok := src.([]byte)
	if !ok {
		return fmt.Errorf("agreement: cannot scan %T", src)
	}
	return json.Unmarshal(b, a)
}

// AgreementDue is one payment of the plan, as the agreement states it.
type AgreementDue struct {
	At     time.Time
	Amount int64
}

// AgreementTerms is everything the agreement of one purchase states, as
// plain values; billing fills the plan with its installment split.
type AgreementTerms struct {
	Locale      string // the client's
	Location    *time.Location
	On          time.Time // the day it is drawn up
	CoachName   string
	CoachEmail  string
	CoachLocale string
	ClientName  string
	ClientEmail string
	ClientPhone string
	Offer       Offer
	Plan        string // upfront or installments
	Dues        []AgreementDue
	Charter     Charter // the version the client will be judged by, with its points
}

// AgreementSection is a heading and its lines.
type AgreementSection struct {
	Heading string   `json:"heading"`
	Lines   []string `json:"lines"`
}

// AgreementDoc is an agreement written out in one language.
type AgreementDoc struct {
	Locale   string             `json:"locale"`
	Title    string             `json:"title"`
	Intro    string             `json:"intro"`
	Sections []AgreementSection `json:"sections"`
}

// Text is the agreement as the exact text the client accepts: title and
// intro, then each section as its heading and lines, blank lines between.
func (d AgreementDoc) Text() string {
	var b strings.Builder
	b.WriteString(d.Title + "\n" + d.Intro + "\n")
	for _, s := range d.Sections {
		b.WriteString("\n" + s.Heading + "\n" + strings.Join(s.Lines, "\n") + "\n")
	}
	return b.String()
}

// SHA256 is the hex SHA-256 of Text, what an acceptance records.
func (d AgreementDoc) SHA256() string { return TextSHA256(d.Text()) }

// TextSHA256 is the hex SHA-256 of an agreement's text.
func TextSHA256(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// ParseAgreementText splits a stored agreement text back into its parts,
// for pages that show a signed agreement as it was accepted.
func ParseAgreementText(text string) AgreementDoc {
	var d AgreementDoc
	blocks := strings.Split(strings.TrimRight(text, "\n"), "\n\n")
	for i, blk := range blocks {
		lines := strings.Split(blk, "\n")
		if i == 0 {
			d.Title = lines[0]
			d.Intro = strings.Join(lines[1:], "\n")
			continue
		}
		d.Sections = append(d.Sections, AgreementSection{Heading: lines[0], Lines: lines[1:]})
	}
	return d
}

//go:embed locales
var localeFS embed.FS

// Texts is the packs catalog: the agreement's words in fr, es and en.
var Texts = i18n.MustCatalog(localeFS, "locales")

// RenderAgreement writes the agreement of one purchase in the client's
// language: who, what, the price and each payment, how sessions run, what
// is and is not included, the cancellation rules in words under the charter
// the client will be judged by, and the coach's commitments.
func RenderAgreement(t AgreementTerms) AgreementDoc {
	l := i18n.Norm(t.Locale)
	loc := t.Location
	if loc == nil {
		loc = time.UTC
	}
	T := func(id string, pairs ...any) string { return Texts.T(l, "agreement."+id, pairs...) }
	money := func(v int64) string { return i18n.Money(v, t.Offer.Currency, l) }
	ch := t.Charter
	d := AgreementDoc{Locale: l,
		Title: T("title", "Coach", t.CoachName, "Client", t.ClientName),
		Intro: T("intro", "Date", i18n.Date(t.On.In(loc), l), "Version", ch.Version, "Coach", t.CoachName)}
	if ch.Version == 0 {
		d.Intro = T("intro_default", "Date", i18n.Date(t.On.In(loc), l))
	}
	client := t.ClientName + ", " + t.ClientEmail
	if t.ClientPhone != "" {
		client += ", " + t.ClientPhone
	}
	d.Sections = append(d.Sections, AgreementSection{Heading: T("parties"), Lines: []string{
		T("coach", "Who", t.CoachName+", "+t.CoachEmail), T("client", "Who", client)}})

	o := t.Offer
	var what string
	if o.Kind == KindSessions {
		what = T("offer_sessions", "Sessions", T("sessions", "Count", deref(o.Sessions)),
			"Days", T("days", "Count", deref(o.ValidityDays)))
	} else {
		what = T("offer_period", "Months", T("months", "Count", deref(o.Months)))
		if o.WeeklyCap != nil {
			what += " " + T("weekly_cap", "Sessions", T("sessions", "Count", *o.WeeklyCap))
		}
	}
	d.Sections = append(d.Sections, AgreementSection{Heading: T("offer"), Lines: []string{o.Name, what}})

	pay := []string{T("price", "Amount", money(o.PriceAmount))}
	if t.Plan == PlanInstallments {
		pay = append(pay, T("installments", "Count", len(t.Dues)))
		for i, due := range t.Dues {
			pay = append(pay, T("due", "N", i+1, "Date", i18n.Date(due.At.In(loc), l), "Amount", money(due.Amount)))
		}
		pay = append(pay, T("grace", "Days", T("days", "Count", ch.GraceDays)))
	} else if len(t.Dues) > 0 {
		pay = append(pay, T("upfront", "Date", i18n.Date(t.Dues[0].At.In(loc), l), "Amount", money(t.Dues[0].Amount)))
	}
	d.Sections = append(d.Sections, AgreementSection{Heading: T("payment"), Lines: pay})

	pts := ch.Agreement.In(l, t.CoachLocale)
	var run []string
	if pts.SessionLength != "" {
		run = append(run, T("session_length", "Text", pts.SessionLength))
	}
	if pts.Frequency != "" {
		run = append(run, T("frequency", "Text", pts.Frequency))
	}
	if len(run) > 0 {
		d.Sections = append(d.Sections, AgreementSection{Heading: T("sessions_run"), Lines: run})
	}
	for _, p := range []struct{ id, text string }{{"included", pts.Included}, {"excluded", pts.Excluded},
		{"extras", pts.Extras}, {"free_text", pts.FreeText}} {
		if p.text != "" {
			d.Sections = append(d.Sections, AgreementSection{Heading: T(p.id), Lines: strings.Split(p.text, "\n")})
		}
	}

	hours := T("hours", "Count", ch.NoticeHours)
	rules := []string{T("notice", "Hours", hours),
		T("late_"+ch.LateCancelAction, "Hours", hours, "Fee", money(ch.LateCancelFee)),
		T("no_show_"+ch.NoShowAction, "Fee", money(ch.NoShowFee)),
		T("judged")}
	d.Sections = append(d.Sections, AgreementSection{Heading: T("cancellation"), Lines: rules})

	refund := T("refund_review")
	if ch.AutoRefundExcess {
		refund = T("refund_auto")
	}
	d.Sections = append(d.Sections, AgreementSection{Heading: T("commitments"), Lines: []string{
		T("coach_cancel"), T("records"), refund}})
	return d
}

func deref(p *int) int {
	if p == nil {
		return 0
	}
	return *p
}
