package web

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/billing"
	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/errs"
	"carnet/packs"
)

// linkPage is the page of a link that does not open (expired, revoked,
// invalid), of a signed-out browser, and of a fresh link asked for.
type linkPage struct {
	State string // expired, revoked, invalid, signed_out, sent
	Link  string // the link's token, when it still names its client
}

// openLink exchanges a link for a session and sends the browser to the
// page's clean address, so the token leaves the address bar and history.
func (a *App) openLink(c *gin.Context) {
	ctx := c.Request.Context()
	token := c.Param("token")
	// The request log reads the path after this handler: it never sees the
	// token (written the way the API's own redaction writes it).
	c.Request.URL.Path, c.Request.URL.RawPath = "/c/[redacted]", ""
	lc, err := a.links.Check(ctx, token)
	if err != nil {
		clientPages.Fail(c, clientPages.NewView(c.GetHeader("Accept-Language"), nil), err)
		return
	}
	if lc.State == auth.LinkValid {
		session, err := a.links.OpenSession(ctx, lc)
		if err != nil {
			clientPages.Fail(c, clientPages.NewView(c.GetHeader("Accept-Language"), nil), err)
			return
		}
		a.setClientCookie(c, clientCookie, session, int(lc.ExpiresAt.Sub(a.Now()).Seconds()))
		c.Redirect(http.StatusSeeOther, clientPathRoot)
		return
	}
	v, status := a.linkView(c, lc), http.StatusNotFound
	data := linkPage{State: lc.State}
	if lc.State != auth.LinkInvalid {
		data.Link, status = token, http.StatusGone
	}
	v.Title = v.T("client.link.title_" + lc.State)
	clientPages.Render(c, status, "link", v.with(data))
}

// linkView speaks the language of the client a link names, else the
// browser's.
func (a *App) linkView(c *gin.Context, lc auth.LinkCheck) *View {
	locale := c.GetHeader("Accept-Language")
	if lc.State != auth.LinkInvalid {
		if cl, err := a.Packs.Client(c.Request.Context(), lc.CoachID, lc.ClientID); err == nil {
			locale = cl.Locale
		}
	}
	v := clientPages.NewView(locale, nil)
	v.Home = clientPathRoot
	return v
}

// postFreshLink sends a fresh link to the address on file and answers the
// same words whatever it found.
func (a *App) postFreshLink(c *gin.Context) {
	ctx := c.Request.Context()
	lc := auth.LinkCheck{State: auth.LinkInvalid}
	if link := c.PostForm("link"); link != "" {
		var err error
		if lc, err = a.links.Check(ctx, link); err != nil {
			clientPages.Fail(c, clientPages.NewView(c.GetHeader("Accept-Language"), nil), err)
			return
		}
	}
	if err := a.Packs.SendFreshLink(ctx, lc, c.PostForm("email")); err != nil {
		clientPages.Fail(c, a.linkView(c, lc), err)
		return
	}
	v := a.linkView(c, lc)
	v.Title = v.T("client.link.title_sent")
	clientPages.Render(c, http.StatusOK, "link", v.with(linkPage{State: "sent"}))
}

func (a *App) postClientSignOut(c *gin.Context) {
	if token, _ := c.Cookie(clientCookie); token != "" {
		_ = a.links.CloseSession(c.Request.Context(), token)
	}
	a.setClientCookie(c, clientCookie, "", -1)
	v := clientPages.NewView(c.GetHeader("Accept-Language"), nil)
	v.Home = clientPathRoot
	v.Title = v.T("client.link.title_signed_out")
	clientPages.Render(c, http.StatusOK, "link", v.with(linkPage{State: "signed_out"}))
}

// homePage is the client's page: what they hold, what comes, what was.
type homePage struct {
	packs.ClientHome
	Now time.Time
}

// Usable tells whether a pack pays for sessions now.
func (h homePage) Usable(p packs.PackView) bool { return p.Usable(h.Now) }

// Open tells whether a booking can still be cancelled.
func (h homePage) Open(b packs.BookingView) bool { return b.Open(h.Now) }

// Awaiting tells a past booking the coach has not settled yet.
func (h homePage) Awaiting(b packs.BookingView) bool {
	return b.Outcome == nil && !b.SessionCancelled && !h.Now.Before(b.StartsAt)
}

// Cap is a period pack's weekly cap (0 without one).
func (h homePage) Cap(p packs.PackView) int {
	if p.WeeklyCap == nil {
		return 0
	}
	return *p.WeeklyCap
}

// Outcome says how a booking ended, in words.
func (h homePage) Outcome(v *View, b packs.BookingView) string {
	switch {
	case b.Outcome != nil:
		return v.T("client.outcome." + *b.Outcome)
	case b.SessionCancelled:
		return v.T("client.outcome.coach_cancelled")
	case h.Awaiting(b):
		return v.T("client.outcome.awaiting")
	}
	return ""
}

// Cost says what a booking cost under the charter that judged it.
func (h homePage) Cost(v *View, b packs.BookingView) string {
	switch {
	case b.Outcome == nil:
		return "—"
	case b.Waived:
		return v.T("client.cost.waived")
	case b.Fee > 0:
		return v.T("client.cost.fee", "Amount", v.Money(b.Fee, b.FeeCurrency))
	case b.Sessions > 0:
		return v.T("client.cost.sessions", "Count", b.Sessions)
	case b.Counted:
		return v.T("client.cost.period")
	}
	return v.T("client.cost.free")
}

// CanConfirm tells an attended session the client has not confirmed yet.
func (h homePage) CanConfirm(b packs.BookingView) bool {
	return b.Outcome != nil && *b.Outcome == packs.Attended && b.ConfirmedAt == nil
}

// Confirmation says whether the client confirmed an attended session.
func (h homePage) Confirmation(v *View, b packs.BookingView) string {
	if b.ConfirmedAt != nil {
		return v.T("client.history.confirmed", "Date", v.Date(*b.ConfirmedAt))
	}
	return "—"
}

// Method says how a payment was made, when known.
func (h homePage) Method(v *View, p packs.PaymentView) string {
	m := p.ManualMethod()
	if m == "" {
		m = p.Method
	}
	if m == "" {
		return "—"
	}
	if t := v.T("client.method." + m); t != "client.method."+m {
		return t
	}
	return m
}

func (a *App) clientHome(c *gin.Context) {
	ctx := c.Request.Context()
	h, err := a.Packs.ClientHome(ctx, clientOf(c))
	if err != nil {
		clientPages.Fail(c, clientPages.NewView(c.GetHeader("Accept-Language"), nil), err)
		return
	}
	v := a.clientView(c, h.Client.Locale, h.Coach.Timezone)
	if err := a.Billing.Receipts(ctx, h.Payments); err != nil {
		slog.WarnContext(ctx, "receipts", "err", err, "request_id", api.RequestID(c))
	}
	v.Title = v.T("client.home.title", "Coach", h.Coach.Name)
	clientPages.Render(c, http.StatusOK, "home", v.with(homePage{ClientHome: h, Now: a.Now()}))
}

// clientFor loads the signed-in client and their coach, and starts the view.
func (a *App) clientFor(c *gin.Context) (packs.Client, auth.Coach, *View, bool) {
	who := clientOf(c)
	cl, err := a.Packs.Client(c.Request.Context(), who.CoachID, who.ClientID)
	var coach auth.Coach
	if err == nil {
		coach, err = auth.CoachByID(c.Request.Context(), a.DB, who.CoachID)
	}
	if err != nil {
		clientPages.Fail(c, clientPages.NewView(c.GetHeader("Accept-Language"), nil), err)
		return cl, coach, nil, false
	}
	return cl, coach, a.clientView(c, cl.Locale, coach.Timezone), true
}

// cancelPage shows what cancelling a booking costs before it is done.
type cancelPage struct {
	Booking packs.BookingView
	Preview packs.CancellationPreview
	Expect  string // free, counted, fee or none: what the client was shown
}

// Text is the consequence in the client's words, under the charter they accepted.
func (p cancelPage) Text(v *View) string {
	hours := v.T("client.hours", "Count", p.Preview.NoticeHours)
	switch p.Expect {
	case "free":
		return v.T("client.cancel.free", "Hours", hours, "Until", v.DateTime(p.Preview.FreeUntil))
	case "counted":
		return v.T("client.cancel.counted", "Hours", hours)
	case "fee":
		return v.T("client.cancel.fee", "Hours", hours, "Amount", v.Money(p.Preview.FeeAmount, p.Preview.Currency))
	}
	return v.T("client.cancel.late_free", "Hours", hours)
}

// consequence names what a cancellation would cost, as the page says it.
func consequence(p packs.CancellationPreview) string {
	switch {
	case !p.Late:
		return "free"
	case p.Counted:
		return "counted"
	case p.FeeAmount > 0:
		return "fee"
	}
	return "none"
}

// clientBooking reads a booking of the signed-in client: another client's
// id is not found.
func (a *App) clientBooking(c *gin.Context, v *View) (packs.BookingView, bool) {
	id, err := api.PathID(c, "id")
	var b packs.BookingView
	found := false
	if err == nil {
		b, found, err = a.Packs.ClientBooking(c.Request.Context(), clientOf(c), id)
	}
	if err == nil && !found {
		err = errs.NotFoundf("no booking")
	}
	if err != nil {
		clientPages.Fail(c, v, err)
		return b, false
	}
	return b, true
}

func (a *App) clientCancelPage(c *gin.Context) {
	_, _, v, ok := a.clientFor(c)
	if !ok {
		return
	}
	b, ok := a.clientBooking(c, v)
	if !ok {
		return
	}
	who := clientOf(c)
	p, err := a.Packs.PreviewCancellation(c.Request.Context(), who.CoachID, who.ClientID, b.BookingID)
	if err != nil {
		clientPages.Fail(c, v, err)
		return
	}
	v.Title = v.T("client.cancel.title")
	clientPages.Render(c, http.StatusOK, "cancel", v.with(cancelPage{Booking: b, Preview: p, Expect: consequence(p)}))
}

// postClientCancel cancels, unless what it costs changed since the client
// read it (the notice window closed meanwhile): then the page shows the new
// cost and asks again.
func (a *App) postClientCancel(c *gin.Context) {
	_, _, v, ok := a.clientFor(c)
	if !ok {
		return
	}
	b, ok := a.clientBooking(c, v)
	if !ok {
		return
	}
	who := clientOf(c)
	ctx := c.Request.Context()
	back := clientPathRoot + "/bookings/" + c.Param("id") + "/cancel"
	p, err := a.Packs.PreviewCancellation(ctx, who.CoachID, who.ClientID, b.BookingID)
	if err == nil && consequence(p) != c.PostForm("expect") {
		a.clientDone(c, back, errs.New(errs.Conflict, "the cost changed"), "")
		return
	}
	if err == nil {
		_, err = a.Packs.RecordOutcome(ctx, who.CoachID, b.BookingID, packs.OutcomeInput{Outcome: packs.Cancelled})
	}
	a.clientDone(c, clientPathRoot, err, "cancelled_"+consequence(p))
}

func (a *App) postClientConfirm(c *gin.Context) {
	_, _, v, ok := a.clientFor(c)
	if !ok {
		return
	}
	b, ok := a.clientBooking(c, v)
	if !ok {
		return
	}
	_, err := a.Packs.ConfirmAttendance(c.Request.Context(), clientOf(c), b.BookingID)
	a.clientDone(c, clientPathRoot+"#history", err, "confirmed")
}

// offerPlan is one way to pay an offer: its payments and methods.
type offerPlan struct {
	Plan     string
	Payments []billing.Due
	Methods  []string
}

// buyPage lists the coach's offers with their plans.
type buyPage struct {
	Offers []offerChoice
}

type offerChoice struct {
	Offer packs.Offer
	Plans []offerPlan
}

func (a *App) clientBuy(c *gin.Context) {
	_, coach, v, ok := a.clientFor(c)
	if !ok {
		return
	}
	list, err := a.Packs.Offers(c.Request.Context(), coach.ID, "active", api.Page{Limit: 100})
	if err != nil {
		clientPages.Fail(c, v, err)
		return
	}
	now := a.Now().UTC()
	var page buyPage
	for _, o := range list.Data {
		ch := offerChoice{Offer: o}
		if o.Upfront {
			ch.Plans = append(ch.Plans, offerPlan{Plan: billing.PlanUpfront, Payments: billing.SplitInstallments(o.PriceAmount, 1, now),
				Methods: billing.PaymentMethods(o.Currency, coach.Country, coach.Timezone, billing.PlanUpfront)})
		}
		if o.Installments != nil {
			ch.Plans = append(ch.Plans, offerPlan{Plan: billing.PlanInstallments,
				Payments: billing.SplitInstallments(o.PriceAmount, *o.Installments, now),
				Methods:  billing.PaymentMethods(o.Currency, coach.Country, coach.Timezone, billing.PlanInstallments)})
		}
		page.Offers = append(page.Offers, ch)
	}
	v.Title = v.T("client.buy.title")
	clientPages.Render(c, http.StatusOK, "buy", v.with(page))
}

// agreementPage is an agreement to read and accept, or one signed.
type agreementPage struct {
	Doc     packs.AgreementDoc
	OfferID int64
	Plan    string
	SHA256  string
	Signed  *packs.Acceptance
}

func (a *App) clientAgreementPage(c *gin.Context) {
	_, _, v, ok := a.clientFor(c)
	if !ok {
		return
	}
	id, err := api.PathID(c, "id")
	var ag billing.Agreement
	if err == nil {
		ag, err = a.Billing.AgreementToRead(c.Request.Context(), clientOf(c), id, c.Query("plan"))
	}
	if errs.CodeOf(err) == errs.Invalid {
		err = errs.NotFoundf("no such offer") // an offer the client cannot buy is not a page
	}
	if err != nil {
		clientPages.Fail(c, v, err)
		return
	}
	v.Title = ag.Title
	clientPages.Render(c, http.StatusOK, "agreement_read", v.with(agreementPage{Doc: ag.AgreementDoc, OfferID: ag.OfferID,
		Plan: ag.Plan, SHA256: ag.SHA256}))
}

// postClientBuy records the acceptance with a pending pack and sends the
// client to pay (Stripe Checkout, or the local checkout page).
func (a *App) postClientBuy(c *gin.Context) {
	cl, coach, v, ok := a.clientFor(c)
	if !ok {
		return
	}
	id, err := api.PathID(c, "id")
	if err != nil {
		clientPages.Fail(c, v, err)
		return
	}
	back := clientPathRoot + "/buy/" + c.Param("id") + "?plan=" + c.PostForm("plan")
	if c.PostForm("accept") != "yes" {
		a.clientDone(c, back, errs.Field("accept", "read and accept the agreement"), "")
		return
	}
	out, err := a.Billing.StartCheckout(c.Request.Context(), coach, billing.CheckoutInput{ClientID: cl.ID, OfferID: id,
		Plan: c.PostForm("plan"), AgreementSHA256: c.PostForm("sha256"),
		Signer: &packs.Signature{IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}})
	if err != nil {
		a.clientDone(c, back, err, "")
		return
	}
	to := out.URL
	if rest, ok := strings.CutPrefix(to, a.BaseURL); ok && strings.HasPrefix(rest, "/") {
		to = rest // our own local checkout: stay on this host
	}
	c.Redirect(http.StatusSeeOther, to)
}

func (a *App) clientSignedAgreement(c *gin.Context) {
	_, _, v, ok := a.clientFor(c)
	if !ok {
		return
	}
	who := clientOf(c)
	a.signedAgreement(c, v, who.CoachID, who.ClientID)
}

// coachSignedAgreement is the same printable agreement for the coach.
func (a *App) coachSignedAgreement(c *gin.Context) {
	coach := coachOf(c)
	loc, err := time.LoadLocation(coach.Timezone)
	if err != nil {
		loc = time.UTC
	}
	v := clientPages.NewView(coach.Locale, loc)
	v.Home = "/app"
	a.signedAgreement(c, v, coach.ID, 0)
}

func (a *App) signedAgreement(c *gin.Context, v *View, coachID, clientID int64) {
	id, err := api.PathID(c, "id")
	var signed packs.Acceptance
	if err == nil {
		signed, err = packs.SignedAgreement(c.Request.Context(), a.DB, coachID, clientID, id)
	}
	if err != nil {
		clientPages.Fail(c, v, err)
		return
	}
	doc := packs.ParseAgreementText(signed.Text)
	v.Title = doc.Title
	clientPages.Render(c, http.StatusOK, "agreement", v.with(agreementPage{Doc: doc, Signed: &signed}))
}
