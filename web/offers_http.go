package web

import (
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"carnet/billing"
	"carnet/internal/api"
	"carnet/internal/errs"
	"carnet/internal/i18n"
	"carnet/packs"
)

type offersData struct {
	Offers   []packs.Offer
	Current  packs.Charter
	Versions []packs.Charter
	Preview  *packs.Charter      // a charter read before publishing
	Doc      *packs.AgreementDoc // the agreement a client would read under it
	Form     charterForm
	Lang     string // the language the preview is read in
}

// charterForm is the charter form as typed (money in major units), with
// the agreement's written points by locale.
type charterForm struct {
	NoticeHours, GraceDays   string
	LateAction, NoShowAction string
	LateFee, NoShowFee       string
	AutoRefund               bool
	Agreement                packs.Agreement
}

// agreementPoints are the agreement's written points, in the order the
// editor asks for them; each is a form field ag_LOCALE_POINT.
var agreementPoints = []string{"included", "excluded", "session_length", "frequency", "extras", "free_text"}

// point is one of a points' fields by its name in agreementPoints.
func point(p *packs.AgreementPoints, name string) *string {
	switch name {
	case "included":
		return &p.Included
	case "excluded":
		return &p.Excluded
	case "session_length":
		return &p.SessionLength
	case "frequency":
		return &p.Frequency
	case "extras":
		return &p.Extras
	}
	return &p.FreeText
}

// Point is the text of one point in one locale, for the form.
func (f charterForm) Point(locale, name string) string {
	p := f.Agreement[locale]
	return *point(&p, name)
}

// Has tells whether any point is written in locale.
func (f charterForm) Has(locale string) bool {
	_, ok := f.Agreement[locale]
	return ok
}

// agreementInput reads the points typed, by locale.
func agreementInput(c *gin.Context) packs.Agreement {
	ag := packs.Agreement{}
	for _, l := range i18n.Locales {
		var p packs.AgreementPoints
		for _, name := range agreementPoints {
			*point(&p, name) = c.PostForm("ag_" + l + "_" + name)
		}
		if p != (packs.AgreementPoints{}) {
			ag[l] = p
		}
	}
	return ag
}

func formOf(ch packs.Charter) charterForm {
	money := func(n int64) string {
		if n == 0 {
			return ""
		}
		return i18n.Decimal(n, ch.Currency)
	}
	return charterForm{NoticeHours: strconv.Itoa(ch.NoticeHours), GraceDays: strconv.Itoa(ch.GraceDays),
		LateAction: ch.LateCancelAction, NoShowAction: ch.NoShowAction, LateFee: money(ch.LateCancelFee),
		NoShowFee: money(ch.NoShowFee), AutoRefund: ch.AutoRefundExcess, Agreement: ch.Agreement}
}

func (a *App) offers(c *gin.Context) { a.renderOffers(c, nil, nil) }

func (a *App) renderOffers(c *gin.Context, preview *packs.Charter, form *charterForm) {
	coach := coachOf(c)
	v := a.view(c, "offers")
	ctx := c.Request.Context()
	list, err := a.Packs.Offers(ctx, coach.ID, "all", api.Page{Limit: 200})
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	current, err := a.Packs.CurrentCharter(ctx, a.DB, coach)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	versions, err := a.Packs.Charters(ctx, coach.ID)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	d := offersData{Offers: list.Data, Current: current, Versions: versions, Preview: preview, Lang: v.Locale}
	if form != nil {
		d.Form = *form
	} else {
		d.Form = formOf(current)
	}
	if l := c.PostForm("lang"); i18n.Valid(l) {
		d.Lang = l
	}
	if preview != nil {
		// The whole agreement as a client reads it, for the first offer on sale.
		for _, o := range list.Data {
			if o.ArchivedAt == nil {
				in := v.In(d.Lang)
				next := *preview
				next.Version = current.Version + 1 // the version it will be once published
				doc := billing.AgreementPreview(coach, o, next, d.Lang, in.T("charter.sample_client"),
					in.T("charter.sample_email"), a.Now().UTC())
				d.Doc = &doc
				break
			}
		}
	}
	v.Title = v.T("offers.title")
	v.Data = d
	a.render(c, "offers", v)
}

func optInt(c *gin.Context, name string) *int {
	s := strings.TrimSpace(c.PostForm(name))
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		n = -1 // refused by the rules with the field named
	}
	return &n
}

func (a *App) postOffer(c *gin.Context) {
	coach := coachOf(c)
	price, err := i18n.ParseMoney(c.PostForm("price"), coach.Currency)
	if err != nil || price == 0 {
		a.refused(c, "/app/offers", errs.Field("price_amount", "must be an amount"), "", func() { a.offers(c) })
		return
	}
	upfront := true
	in := packs.OfferInput{Name: c.PostForm("name"), Kind: c.PostForm("kind"), Sessions: optInt(c, "sessions"),
		ValidityDays: optInt(c, "validity_days"), Months: optInt(c, "months"), WeeklyCap: optInt(c, "weekly_cap"),
		PriceAmount: &price, Upfront: &upfront, Installments: optInt(c, "installments")}
	if in.Kind == packs.KindSessions {
		in.Months, in.WeeklyCap = nil, nil
	} else {
		in.Sessions, in.ValidityDays = nil, nil
	}
	_, err = a.Packs.CreateOffer(c.Request.Context(), coach, in)
	a.refused(c, "/app/offers", err, "offer_created", func() { a.offers(c) })
}

func (a *App) postArchiveOffer(c *gin.Context, id int64) {
	_, err := a.Packs.ArchiveOffer(c.Request.Context(), coachOf(c).ID, id)
	a.done(c, "/app/offers", err, "offer_archived")
}

// charterInput reads the charter form; fees are typed in major units.
func (a *App) charterInput(c *gin.Context) (packs.CharterInput, charterForm, error) {
	coach := coachOf(c)
	f := charterForm{NoticeHours: c.PostForm("notice_hours"), GraceDays: c.PostForm("grace_days"),
		LateAction: c.PostForm("late_cancel_action"), NoShowAction: c.PostForm("no_show_action"),
		LateFee: c.PostForm("late_cancel_fee"), NoShowFee: c.PostForm("no_show_fee"),
		AutoRefund: c.PostForm("auto_refund_excess") == "1", Agreement: agreementInput(c)}
	in := packs.CharterInput{NoticeHours: optInt(c, "notice_hours"), GraceDays: optInt(c, "grace_days"),
		LateCancelAction: f.LateAction, NoShowAction: f.NoShowAction, CoachCancel: "nothing", AutoRefundExcess: f.AutoRefund,
		Agreement: f.Agreement}
	var err error
	if in.LateCancelFee, err = i18n.ParseMoney(f.LateFee, coach.Currency); err != nil {
		return in, f, errs.Field("late_cancel_fee", "must be an amount")
	}
	if in.NoShowFee, err = i18n.ParseMoney(f.NoShowFee, coach.Currency); err != nil {
		return in, f, errs.Field("no_show_fee", "must be an amount")
	}
	return in, f, nil
}

// postCharterPreview shows the charter exactly as a client will read it,
// in the language chosen, with the button that publishes it.
func (a *App) postCharterPreview(c *gin.Context) {
	in, f, err := a.charterInput(c)
	var ch packs.Charter
	if err == nil {
		ch, err = in.Preview(coachOf(c).Currency)
	}
	if err != nil {
		a.refused(c, "/app/offers#charter", err, "", func() { a.renderOffers(c, nil, &f) })
		return
	}
	a.renderOffers(c, &ch, &f)
}

func (a *App) postCharter(c *gin.Context) {
	in, f, err := a.charterInput(c)
	if err == nil {
		_, err = a.Packs.PublishCharter(c.Request.Context(), coachOf(c), in)
	}
	a.refused(c, "/app/offers#charter", err, "charter_published", func() { a.renderOffers(c, nil, &f) })
}
