package web

import (
	"embed"
	"fmt"
	"hash/fnv"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"reflect"
	"slices"
	"strings"
	"time"

	"carnet/internal/i18n"
	"carnet/packs"
	"carnet/reports"
)

// assets holds everything the pages need, embedded: nothing is fetched from
// the internet, so the CSP can say 'self' and nothing else.
//
//go:embed all:templates static locales
var assets embed.FS

// Pages renders one set of pages: the shared layout (templates/layout.html),
// the set's partials and its pages, with the set's own catalog. The coach's
// app is one set; the client's page can be another, with its own catalog.
type Pages struct {
	Catalog *i18n.Catalog
	pages   map[string]*template.Template
}

// NewPages parses dir/_*.html and the shared templates/_*.html as partials
// (a "nav" among them) and every other dir/*.html as a page named by its
// file name without ".html", each with the layout; messages come from
// catalogDir/{fr,es,en}.yaml.
func NewPages(dir, catalogDir string) (*Pages, error) {
	cat, err := i18n.NewCatalog(assets, catalogDir)
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(assets, dir+"/*.html")
	if err != nil {
		return nil, err
	}
	partials, _ := fs.Glob(assets, dir+"/_*.html")
	shared, _ := fs.Glob(assets, "templates/_*.html") // both sets show an agreement
	partials = append(partials, shared...)
	p := &Pages{Catalog: cat, pages: map[string]*template.Template{}}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(assets, append([]string{"templates/layout.html", f}, partials...)...)
		if err != nil {
			return nil, fmt.Errorf("web: %s: %w", f, err)
		}
		p.pages[name] = t
	}
	return p, nil
}

// MustPages is NewPages for the embedded pages: a broken template stops the
// program at start, never at a coach's request.
func MustPages(dir, catalogDir string) *Pages {
	p, err := NewPages(dir, catalogDir)
	if err != nil {
		panic(err)
	}
	return p
}

// funcs are the few helpers that need no locale; everything a person reads
// goes through the View's methods (T, Money, Date, ...).
var funcs = template.FuncMap{
	"asset": assetURL,
	"add":   func(a, b int) int { return a + b },
	"abs": func(n int) int {
		if n < 0 {
			return -n
		}
		return n
	},
	"sign": func(n int) string {
		if n < 0 {
			return "-"
		}
		return "+"
	},
	// packOffer is the offer of one of the client's packs.
	"packOffer": func(b packs.Balance, packID any) int64 {
		var id int64
		switch v := packID.(type) {
		case int64:
			id = v
		case *int64:
			if v != nil {
				id = *v
			}
		}
		for _, p := range b.Packs {
			if p.ID == id {
				return p.OfferID
			}
		}
		return 0
	},
	"locales":     func() []string { return i18n.Locales },
	"reportPages": func() []string { return reportPages },
	// first is a list's first pageRows items: what a report's page lists,
	// where its download lists every one.
	"first": func(list any) any {
		v := reflect.ValueOf(list)
		if v.Kind() != reflect.Slice || v.Len() <= pageRows {
			return list
		}
		return v.Slice(0, pageRows).Interface()
	},
	"chartWidth":      func() int { return reports.ChartWidth },
	"chartHeight":     func() int { return reports.ChartHeight },
	"agreementPoints": func() []string { return agreementPoints },
	"actions":         func() []string { return []string{packs.ActionDeduct, packs.ActionFee, packs.ActionNone} },
	// dict builds a map for passing several values to a partial.
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"deref": func(p any) any {
		switch v := p.(type) {
		case *int64:
			if v != nil {
				return *v
			}
		case *int:
			if v != nil {
				return *v
			}
		case *string:
			if v != nil {
				return *v
			}
		case *time.Time:
			if v != nil {
				return *v
			}
		case *packs.Charter:
			if v != nil {
				return *v
			}
		}
		return nil
	},
}

// View is what every page template receives: who reads it, in which
// language and time zone, the page's own data, and a message to show.
type View struct {
	Locale   string
	Location *time.Location
	Title    string // already in the reader's words
	Nav      string // the current section, to mark it in the navigation
	Notice   string // a success message, in words
	Error    string // what went wrong, in words
	SignedIn bool
	Home     string // where the brand leads: /app for the coach, /client for a client
	Currency string // the signed-in coach's
	Name     string // the signed-in person's name
	Data     any
	// Failed is the form a refused post sent, shown again as typed.
	Failed *FailedForm
	cat    *i18n.Catalog
	memo   map[string]string // T without data, by id
}

// FailedForm is a form that was refused: which one (its hidden "form"
// field), the values typed, and the field the error names.
type FailedForm struct {
	Form   string
	Values url.Values
	Field  string // the error's field, as the rules name it ("" for none)
	Status int    // the HTTP status the page is answered with
	err    error
}

// Val is what a form's input shows: the value typed when this form was
// just refused, else its value from the rows.
func (v *View) Val(form, name string, stored any) string {
	if v.Failed != nil && v.Failed.Form == form {
		return v.Failed.Values.Get(name)
	}
	switch s := stored.(type) {
	case nil:
		return ""
	case string:
		return s
	case *string:
		if s == nil {
			return ""
		}
		return *s
	}
	return fmt.Sprint(stored)
}

// Picked tells whether a choice (an option, a radio, a checkbox) is taken:
// as typed when this form was just refused, else as dflt says.
func (v *View) Picked(form, name, value string, dflt bool) bool {
	if v.Failed != nil && v.Failed.Form == form {
		return slices.Contains(v.Failed.Values[name], value)
	}
	return dflt
}

// FieldError is the error in words to show beside a field of form, when
// the refusal named one of fields ("" otherwise).
func (v *View) FieldError(form string, fields ...string) string {
	if v.Failed == nil || v.Failed.Form != form || !slices.Contains(fields, v.Failed.Field) {
		return ""
	}
	return v.Error
}

// T writes a message of the page set's catalog; pairs are key, value, ...
// ("Count", 3 chooses the plural form).
func (v *View) T(id string, pairs ...any) string {
	if len(pairs) == 0 {
		// A page writes the same labels once per row: look each up once.
		if s, ok := v.memo[id]; ok {
			return s
		}
		if v.memo == nil {
			v.memo = map[string]string{}
		}
		s := v.cat.T(v.Locale, id)
		v.memo[id] = s
		return s
	}
	for i, p := range pairs {
		// Optional numbers reach templates as pointers; plurals need the number.
		switch n := p.(type) {
		case *int:
			if n != nil {
				pairs[i] = *n
			}
		case *int64:
			if n != nil {
				pairs[i] = *n
			}
		}
	}
	return v.cat.T(v.Locale, id, pairs...)
}

// In is the View for reading in another language (a preview of what a
// client reads in theirs).
func (v *View) In(locale string) *View {
	w := *v
	w.Locale, w.memo = i18n.Norm(locale), nil
	return &w
}

// TOr writes a message, or fallback when the catalog has none (a status
// Stripe may add one day is still shown, as its code).
func (v *View) TOr(id, fallback string) string {
	if s := v.cat.T(v.Locale, id); s != id {
		return s
	}
	return fallback
}

// Money writes minor units in the reader's locale.
func (v *View) Money(minor int64, currency string) string {
	return i18n.Money(minor, currency, v.Locale)
}

func (v *View) in(t time.Time) time.Time {
	if v.Location == nil {
		return t.UTC()
	}
	return t.In(v.Location)
}

// Date, Day, Clock and DateTime write a time in the reader's time zone.
func (v *View) Date(t time.Time) string  { return i18n.Date(v.in(t), v.Locale) }
func (v *View) Day(t time.Time) string   { return i18n.Day(v.in(t), v.Locale) }
func (v *View) Clock(t time.Time) string { return i18n.Clock(v.in(t), v.Locale) }
func (v *View) DateTime(t time.Time) string {
	return i18n.Date(v.in(t), v.Locale) + " " + i18n.Clock(v.in(t), v.Locale)
}

// Percent writes a share (0..1): "33,3 %".
func (v *View) Percent(share float64) string { return i18n.Percent(share, v.Locale) }

// MonthOf writes a month given as 2026-10 (as reports key them): "octobre
// 2026"; anything else as it is.
func (v *View) MonthOf(month string) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	return i18n.Month(t, v.Locale)
}

// MonthName writes a month: "octobre 2026".
func (v *View) MonthName(t time.Time) string { return i18n.Month(v.in(t), v.Locale) }

// InputTime writes a time for an <input type="datetime-local"> in the
// reader's zone; InputDate for <input type="date">.
func (v *View) InputTime(t time.Time) string { return v.in(t).Format("2006-01-02T15:04") }
func (v *View) InputDate(t time.Time) string { return v.in(t).Format("2006-01-02") }

// NewView starts a View for a reader.
func (p *Pages) NewView(locale string, loc *time.Location) *View {
	return &View{Locale: i18n.Norm(locale), Location: loc, cat: p.Catalog}
}

// assetHashes gives each static file a version in its URL, so it can be
// cached for long and still change with a new release.
var assetHashes = func() map[string]string {
	m := map[string]string{}
	_ = fs.WalkDir(assets, "static", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(assets, p)
			h := fnv.New32a() // a version tag, not a security check
			h.Write(b)
			m[strings.TrimPrefix(p, "static/")] = fmt.Sprintf("%x", h.Sum32())
		}
		return nil
	})
	return m
}()

func assetURL(name string) string { return "/assets/" + name + "?v=" + assetHashes[name] }
