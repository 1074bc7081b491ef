package i18n

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

func TestNorm(t *testing.T) {
	for in, want := range map[string]string{"fr": "fr", "es-MX": "es", "en-GB,en;q=0.8": "en", "de": "fr", "": "fr", " EN ": "en"} {
		if got := Norm(in); got != want {
			t.Errorf("Norm(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPluralFollowsCLDR(t *testing.T) {
	cases := []struct {
		locale string
		n      int64
		want   string
	}{
		{"fr", 0, "0 séance"}, {"fr", 1, "1 séance"}, {"fr", 2, "2 séances"},
		{"es", 0, "0 sesiones"}, {"es", 1, "1 sesión"}, {"es", 2, "2 sesiones"},
		{"en", 0, "0 sessions"}, {"en", 1, "1 session"}, {"en", -1, "-1 session"},
	}
	words := map[string][2]string{"fr": {"séance", "séances"}, "es": {"sesión", "sesiones"}, "en": {"session", "sessions"}}
	for _, c := range cases {
		w := words[c.locale]
		if got := Plural(c.locale, c.n, w[0], w[1]); got != c.want {
			t.Errorf("Plural(%s, %d) = %q, want %q", c.locale, c.n, got, c.want)
		}
	}
}

func TestCatalog(t *testing.T) {
	fsys := fstest.MapFS{
		"m/fr.yaml": {Data: []byte("left:\n  one: \"{{.Count}} séance restante\"\n  other: \"{{.Count}} séances restantes\"\nhello: \"Bonjour {{.Name}}\"\n")},
		"m/es.yaml": {Data: []byte("left:\n  one: \"{{.Count}} sesión restante\"\n  other: \"{{.Count}} sesiones restantes\"\nhello: \"Hola {{.Name}}\"\n")},
		"m/en.yaml": {Data: []byte("left:\n  one: \"{{.Count}} session left\"\n  other: \"{{.Count}} sessions left\"\nhello: \"Hello {{.Name}}\"\n")},
	}
	c, err := NewCatalog(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []struct {
		locale string
		n      int
		want   string
	}{{"fr", 0, "0 séance restante"}, {"fr", 2, "2 séances restantes"}, {"es", 1, "1 sesión restante"}, {"en", 0, "0 sessions left"}} {
		if got := c.T(x.locale, "left", "Count", x.n); got != x.want {
			t.Errorf("%s %d: %q, want %q", x.locale, x.n, got, x.want)
		}
	}
	if got := c.T("es", "hello", "Name", "Léa"); got != "Hola Léa" {
		t.Errorf("hello: %q", got)
	}
	delete(fsys, "m/en.yaml")
	fsys["m/en.yaml"] = &fstest.MapFile{Data: []byte("hello: \"Hello\"\n")}
	if _, err := NewCatalog(fsys, "m"); err == nil || !strings.Contains(err.Error(), "en:left") {
		t.Errorf("a catalog missing en:left loaded: %v", err)
	}
}

func TestMoney(t *testing.T) {
	cases := []struct {
		minor            int64
		currency, locale string
		want             string
	}{
		{15000, "EUR", "fr", "150,00 €"},
		{15000, "EUR", "es", "150,00 €"},
		{15000, "EUR", "en", "€150.00"},
		{15000, "USD", "fr", "150,00 USD"},
		{15000, "USD", "en", "$150.00"},
		{15000, "CHF", "en", "150.00 CHF"},
		{123456789, "EUR", "fr", "1 234 567,89 €"},
		{123456789, "EUR", "es", "1.234.567,89 €"},
		{123456789, "GBP", "en", "£1,234,567.89"},
		{5, "EUR", "fr", "0,05 €"},
		{-2550, "EUR", "en", "-€25.50"},
		{1500, "JPY", "en", "1,500 JPY"},
		{1500, "KWD", "fr", "1,500 KWD"},
		{100, "eur", "xx", "1,00 €"},
	}
	for _, c := range cases {
		if got := Money(c.minor, c.currency, c.locale); got != c.want {
			t.Errorf("Money(%d, %s, %s) = %q, want %q", c.minor, c.currency, c.locale, got, c.want)
		}
	}
}

func TestPercent(t *testing.T) {
	for _, c := range []struct {
		share  float64
		locale string
		want   string
	}{
		{1.0 / 3, "fr", "33,3 %"}, {1.0 / 3, "es", "33,3 %"}, {1.0 / 3, "en", "33.3%"},
		{0.1, "fr", "10,0 %"}, {1, "en", "100.0%"}, {0, "xx", "0,0 %"},
	} {
		if got := Percent(c.share, c.locale); got != c.want {
			t.Errorf("Percent(%v, %s) = %q, want %q", c.share, c.locale, got, c.want)
		}
	}
}

func TestDates(t *testing.T) {
	d := time.Date(2026, 3, 2, 14, 30, 0, 0, time.UTC)
	for locale, want := range map[string][4]string{
		"fr": {"2 mars 2026", "mars 2026", "lundi 2 mars", "14:30"},
		"es": {"2 de marzo de 2026", "marzo de 2026", "lunes 2 de marzo", "14:30"},
		"en": {"March 2, 2026", "March 2026", "Monday, March 2", "2:30 PM"},
	} {
		got := [4]string{Date(d, locale), Month(d, locale), Day(d, locale), Clock(d, locale)}
		if got != want {
			t.Errorf("%s: %q, want %q", locale, got, want)
		}
	}
}

func TestParseMoney(t *testing.T) {
	for _, c := range []struct {
		in, cur string
		want    int64
		ok      bool
	}{
		{"", "EUR", 0, true}, {"12", "EUR", 1200, true}, {"12,50", "EUR", 1250, true}, {"12.5", "EUR", 1250, true},
		{"1 200,00", "EUR", 120000, true}, {"1.200,00", "EUR", 120000, true}, {"1,200.00", "USD", 120000, true},
		{"500", "JPY", 500, true}, {"abc", "EUR", 0, false}, {"-5", "EUR", 0, false}, {",5", "EUR", 0, false},
	} {
		got, err := ParseMoney(c.in, c.cur)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("ParseMoney(%q, %s) = %d, %v; want %d ok=%v", c.in, c.cur, got, err, c.want, c.ok)
		}
	}
}
