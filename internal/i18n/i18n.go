// Package i18n is Carnet's one language layer: the locales it writes in,
// CLDR plural rules, messages looked up by id in per-locale catalogs
// (go-i18n), and money, dates and months written for a reader's locale.
// Pages, emails and previews all go through it.
package i18n

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"gopkg.in/yaml.v3"
)

// Locales lists the languages Carnet writes in; the first is the default.
var Locales = []string{"fr", "es", "en"}

var tags = map[string]language.Tag{"fr": language.French, "es": language.Spanish, "en": language.English}

// Norm returns locale if Carnet writes in it, else the default (fr). It
// accepts a region or a header's first choice ("es-MX", "en-GB,en;q=0.8").
func Norm(locale string) string {
	l := strings.ToLower(strings.TrimSpace(locale))
	if i := strings.IndexAny(l, "-_,;"); i >= 0 {
		l = l[:i]
	}
	if _, ok := tags[l]; ok {
		return l
	}
	return Locales[0]
}

// Valid reports whether locale is one Carnet writes in, exactly.
func Valid(locale string) bool {
	_, ok := tags[locale]
	return ok
}

// One reports whether n takes the CLDR "one" form in locale: 1 in English
// and Spanish, 0 and 1 in French.
func One(locale string, n int64) bool {
	if n < 0 {
		n = -n
	}
	return plural.Cardinal.MatchPlural(tags[Norm(locale)], int(n), 0, 0, 0, 0) == plural.One
}

// Plural writes n followed by the word in its CLDR form for locale:
// Plural("fr", 0, "séance", "séances") is "0 séance".
func Plural(locale string, n int64, one, other string) string {
	if One(locale, n) {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, other)
}

// Catalog holds messages by id in every locale. Files are YAML named by
// locale (fr.yaml, es.yaml, en.yaml); a message is a string, or a map of
// CLDR forms (one, other, ...) chosen by the data's Count; text/template
// placeholders ({{.Name}}) are filled from the data.
type Catalog struct {
	ids        []string
	localizers map[string]*goi18n.Localizer
}

// NewCatalog loads dir/<locale>.yaml for every locale from fsys, and
// refuses a catalog where a locale lacks a message another one has: a
// reader never meets an id instead of words.
func NewCatalog(fsys fs.FS, dir string) (*Catalog, error) {
	b := goi18n.NewBundle(language.French)
	b.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	ids := map[string]map[string]bool{}
	for _, l := range Locales {
		file := path.Join(dir, l+".yaml")
		src, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		mf, err := b.ParseMessageFileBytes(src, file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for _, m := range mf.Messages {
			if ids[m.ID] == nil {
				ids[m.ID] = map[string]bool{}
			}
			ids[m.ID][l] = true
		}
	}
	c := &Catalog{localizers: map[string]*goi18n.Localizer{}}
	var missing []string
	for id, in := range ids {
		c.ids = append(c.ids, id)
		for _, l := range Locales {
			if !in[l] {
				missing = append(missing, l+":"+id)
			}
		}
	}
	sort.Strings(c.ids)
	if len(missing) > 0 {
		sort.Strings(missing)
		return nil, fmt.Errorf("%s: messages missing: %s", dir, strings.Join(missing, ", "))
	}
	for _, l := range Locales {
		c.localizers[l] = goi18n.NewLocalizer(b, l)
	}
	return c, nil
}

// MustCatalog is NewCatalog for catalogs embedded in the binary: a broken
// one stops the program at start.
func MustCatalog(fsys fs.FS, dir string) *Catalog {
	c, err := NewCatalog(fsys, dir)
	if err != nil {
		panic(fmt.Sprintf("i18n: %v", err))
	}
	return c
}

// IDs lists every message id, sorted.
func (c *Catalog) IDs() []string { return c.ids }

// Text writes message id in locale with data (a map; its "Count", when
// set, chooses the plural form).
func (c *Catalog) Text(locale, id string, data map[string]any) (string, error) {
	cfg := &goi18n.LocalizeConfig{MessageID: id, TemplateData: data}
	if n, ok := data["Count"]; ok {
		cfg.PluralCount = n
	}
	return c.localizers[Norm(locale)].Localize(cfg)
}

// T is Text for pages and templates: pairs of key and value make the
// data ("Count", 3, "Name", "Léa"); an unknown id writes the id itself,
// which the catalog's tests forbid.
func (c *Catalog) T(locale, id string, pairs ...any) string {
	data := map[string]any{}
	for i := 0; i+1 < len(pairs); i += 2 {
		data[fmt.Sprint(pairs[i])] = pairs[i+1]
	}
	s, err := c.Text(locale, id, data)
	if err != nil {
		return id
	}
	return s
}
