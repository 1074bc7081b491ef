package i18n

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// decimals is how many minor units a currency has where it is not 2.
var decimals = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "JPY": 0, "KMF": 0, "KRW": 0, "MGA": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "JOD": 3, "KWD": 3, "OMR": 3, "TND": 3,
}

// Money writes an amount in minor units for a reader of locale: 15000 EUR
// is "150,00 €" in fr and es, "€150.00" in en; other currencies keep their
// code ("150,00 USD"; "$150.00" for USD and "£150.00" for GBP in en).
func Money(minor int64, currency, locale string) string {
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
	locale = Norm(locale)
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

var dayNames = map[string][7]string{
	"fr": {"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"},
	"es": {"domingo", "lunes", "martes", "miércoles", "jueves", "viernes", "sábado"},
	"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
}

// Percent writes a share (0..1) for people, to one decimal: "33,3 %" in
// fr and es (a comma, a space before the sign), "33.3%" in en.
func Percent(share float64, locale string) string {
	n := strconv.FormatFloat(share*100, 'f', 1, 64)
	if Norm(locale) == "en" {
		return n + "%"
	}
	return strings.Replace(n, ".", ",", 1) + " %"
}

// Date writes a day for people: "2 mars 2026", "2 de marzo de 2026",
// "March 2, 2026". Pass t in the coach's time zone.
func Date(t time.Time, locale string) string {
	locale = Norm(locale)
	m := monthNames[locale][t.Month()-1]
	switch locale {
	case "es":
		return fmt.Sprintf("%d de %s de %d", t.Day(), m, t.Year())
	case "en":
		return fmt.Sprintf("%s %d, %d", m, t.Day(), t.Year())
	}
	return fmt.Sprintf("%d %s %d", t.Day(), m, t.Year())
}

// Day writes a day of the week and date without the year: "lundi 2 mars",
// "lunes 2 de marzo", "Monday, March 2".
func Day(t time.Time, locale string) string {
	locale = Norm(locale)
	m, d := monthNames[locale][t.Month()-1], dayNames[locale][t.Weekday()]
	switch locale {
	case "es":
		return fmt.Sprintf("%s %d de %s", d, t.Day(), m)
	case "en":
		return fmt.Sprintf("%s, %s %d", d, m, t.Day())
	}
	return fmt.Sprintf("%s %d %s", d, t.Day(), m)
}

// Month writes a month for people: "mars 2026", "marzo de 2026", "March 2026".
func Month(t time.Time, locale string) string {
	locale = Norm(locale)
	m := monthNames[locale][t.Month()-1]
	if locale == "es" {
		return fmt.Sprintf("%s de %d", m, t.Year())
	}
	return fmt.Sprintf("%s %d", m, t.Year())
}

// Clock writes a time of day: "14:30" in fr and es, "2:30 PM" in en.
func Clock(t time.Time, locale string) string {
	if Norm(locale) == "en" {
		return t.Format("3:04 PM")
	}
	return t.Format("15:04")
}

// ParseMoney reads an amount a person typed ("12", "12,50", "12.5",
// "1 200,00") into minor units of currency; empty is zero.
func ParseMoney(s, currency string) (int64, error) {
	s = strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "").Replace(strings.TrimSpace(s))
	if s == "" {
		return 0, nil
	}
	exp, ok := decimals[strings.ToUpper(currency)]
	if !ok {
		exp = 2
	}
	whole, frac := s, ""
	if i := strings.LastIndexAny(s, ".,"); i >= 0 && len(s)-i-1 <= exp && len(s)-i-1 > 0 {
		whole, frac = s[:i], s[i+1:]
	}
	whole = strings.NewReplacer(".", "", ",", "").Replace(whole)
	for len(frac) < exp {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n < 0 || whole == "" {
		return 0, fmt.Errorf("not an amount: %q", s)
	}
	return n, nil
}

// Decimal writes minor units as a plain number for a form field ("12.50",
// "500" for JPY), which ParseMoney reads back.
func Decimal(minor int64, currency string) string {
	exp, ok := decimals[strings.ToUpper(currency)]
	if !ok {
		exp = 2
	}
	if exp == 0 {
		return strconv.FormatInt(minor, 10)
	}
	unit := int64(1)
	for range exp {
		unit *= 10
	}
	return fmt.Sprintf("%d.%0*d", minor/unit, exp, minor%unit)
}
