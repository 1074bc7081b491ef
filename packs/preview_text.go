package packs

import (
	"time"

	"carnet/internal/i18n"
)

// PreviewText says what cancelling now costs, in the client's language,
// with the notice deadline in the coach's time zone and the fee in money.
func PreviewText(p CancellationPreview, locale, tz string) string {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	until := p.FreeUntil.In(loc)
	at := i18n.Date(until, locale) + " " + i18n.Clock(until, locale)
	switch {
	case !p.Late:
		return Texts.T(locale, "preview.free", "Until", at)
	case p.Counted:
		return Texts.T(locale, "preview.session", "Until", at, "Hours", p.NoticeHours)
	case p.FeeAmount > 0:
		return Texts.T(locale, "preview.fee", "Until", at, "Hours", p.NoticeHours, "Fee", i18n.Money(p.FeeAmount, p.Currency, locale))
	}
	return Texts.T(locale, "preview.nothing", "Until", at)
}
