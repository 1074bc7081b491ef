package web

import (
	"cmp"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/billing"
	"carnet/internal/api"
	"carnet/internal/errs"
	"carnet/internal/i18n"
	"carnet/notify"
	"carnet/packs"
)

type clientsData struct {
	packs.ClientPage
	Sorts []string
	Now   time.Time
}

// Link is the list's URL for another page or order, keeping the search.
func (d clientsData) Link(page int, sort string) string {
	q := url.Values{}
	if d.Query.Search != "" {
		q.Set("q", d.Query.Search)
	}
	if sort != "name" {
		q.Set("sort", sort)
	}
	if page > 1 {
		q.Set("page", strconv.Itoa(page))
	}
	if len(q) == 0 {
		return "/app/clients"
	}
	return "/app/clients?" + q.Encode()
}

func (a *App) clients(c *gin.Context) {
	v := a.view(c, "clients")
	page, _ := strconv.Atoi(c.Query("page"))
	list, err := a.Packs.ClientList(c.Request.Context(), coachOf(c).ID, packs.ClientQuery{
		Search: c.Query("q"), Sort: c.Query("sort"), Page: page})
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	v.Title = v.T("clients.title")
	v.Data = clientsData{ClientPage: list, Sorts: []string{"name", "balance", "valid_until", "next_due"}, Now: a.Now()}
	a.render(c, "clients", v)
}

// clientInput reads the client form; empty optional fields stay empty.
func clientInput(c *gin.Context) packs.ClientInput {
	field := func(name string) *string { s := c.PostForm(name); return &s }
	return packs.ClientInput{Name: field("name"), Email: field("email"), Phone: field("phone"),
		Locale: field("locale"), Notes: field("notes")}
}

func (a *App) postClient(c *gin.Context) {
	cl, err := a.Packs.CreateClient(c.Request.Context(), coachOf(c).ID, clientInput(c))
	if err != nil {
		a.done(c, "/app/clients", err, "")
		return
	}
	a.done(c, fmt.Sprintf("/app/clients/%d", cl.ID), nil, "client_added")
}

func (a *App) postClientEdit(c *gin.Context, id int64) {
	_, err := a.Packs.UpdateClient(c.Request.Context(), coachOf(c).ID, id, clientInput(c))
	a.done(c, fmt.Sprintf("/app/clients/%d", id), err, "saved")
}

type clientData struct {
	Client       packs.Client
	Balance      packs.Balance
	OfferNames   map[int64]string
	Offers       []packs.Offer // on sale
	Ledger       []packs.LedgerEntry
	Bookings     []packs.ClientBooking
	Payments     []billing.PaymentLine
	Installments []billing.InstallmentLine
	Messages     []notify.Notification
	Locales      []string
	Checkout     string // a checkout link just opened, to copy
	ClientLink   string // a client link just made, to copy
	Now          time.Time
}

func (a *App) client(c *gin.Context, id int64) { a.renderClient(c, id, "", "") }

// renderClient shows everything about one client; a link just created is
// shown on the answer itself (it is never stored, so it cannot survive a
// redirect).
func (a *App) renderClient(c *gin.Context, id int64, checkout, link string) {
	coach := coachOf(c)
	v := a.view(c, "clients")
	ctx := c.Request.Context()
	d := clientData{Checkout: checkout, ClientLink: link, Now: a.Now(), Locales: packs.Locales}
	var err error
	if d.Client, err = a.Packs.Client(ctx, coach.ID, id); err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	err = first(
		func() (err error) { d.Balance, err = a.Packs.ClientBalance(ctx, coach.ID, id); return },
		func() (err error) { d.OfferNames, err = a.Packs.OfferNames(ctx, coach.ID); return },
		func() error {
			l, err := a.Packs.Offers(ctx, coach.ID, "active", api.Page{Limit: 100})
			d.Offers = l.Data
			return err
		},
		func() error {
			l, err := a.Packs.Ledger(ctx, coach.ID, id, api.Page{Limit: 100})
			d.Ledger = l.Data
			return err
		},
		func() (err error) { d.Bookings, err = a.Packs.ClientBookings(ctx, coach.ID, id, 100); return },
		func() (err error) {
			d.Payments, d.Installments, err = a.Billing.ClientPayments(ctx, coach.ID, id)
			return
		},
		func() (err error) {
			d.Messages, err = notify.List(ctx, a.DB, coach.ID, notify.Query{ClientID: id, Limit: 50})
			return
		},
	)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	v.Title = d.Client.Name
	v.Data = d
	a.render(c, "client", v)
}

// first runs fns in order and stops at the first error.
func first(fns ...func() error) error {
	for _, f := range fns {
		if err := f(); err != nil {
			return err
		}
	}
	return nil
}

func formInt(c *gin.Context, name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSpace(c.PostForm(name)), 10, 64)
	return n
}

// postSell sells a pack: through Stripe Checkout (the link is shown to copy,
// and emailed to the client when asked) or as paid by hand.
func (a *App) postSell(c *gin.Context, id int64) {
	coach := coachOf(c)
	ctx := c.Request.Context()
	back := fmt.Sprintf("/app/clients/%d", id)
	offerID := formInt(c, "offer_id")
	switch method := c.PostForm("method"); method {
	case "cash", "bank_transfer":
		_, err := a.Packs.RecordManualPack(ctx, coach, id, packs.ManualPackInput{OfferID: offerID, Method: method,
			Reference: strings.TrimSpace(c.PostForm("reference"))})
		a.done(c, back, err, "pack_recorded")
	default:
		co, err := a.Billing.StartCheckout(ctx, coach, billing.CheckoutInput{ClientID: id, OfferID: offerID,
			Plan: c.PostForm("plan")})
		if err == nil && c.PostForm("email") == "1" {
			err = a.Packs.EmailLink(ctx, coach, id, notify.CheckoutLink, fmt.Sprintf("checkout:%d", co.PackID), co.URL, offerID)
		}
		if err != nil {
			a.done(c, back, err, "")
			return
		}
		a.renderClient(c, id, co.URL, "")
	}
}

// postClientLink makes the client's own link (7 days), shows it to copy
// and emails it when asked.
func (a *App) postClientLink(c *gin.Context, id int64) {
	coach := coachOf(c)
	ctx := c.Request.Context()
	if _, err := a.Packs.Client(ctx, coach.ID, id); err != nil {
		a.pages.Fail(c, a.view(c, "clients"), err)
		return
	}
	token, _ := a.Packs.Links.Issue(coach.ID, id, 7*24*time.Hour)
	link := strings.TrimRight(a.BaseURL, "/") + "/c/" + token
	if c.PostForm("email") == "1" {
		cause := fmt.Sprintf("client_link:%d:%d", id, a.Now().UnixNano())
		if err := a.Packs.EmailLink(ctx, coach, id, notify.ClientLink, cause, link, 0); err != nil {
			a.done(c, fmt.Sprintf("/app/clients/%d", id), err, "")
			return
		}
	}
	a.renderClient(c, id, "", link)
}

func (a *App) postAdjust(c *gin.Context, id int64) {
	_, err := a.Packs.Adjust(c.Request.Context(), coachOf(c).ID, id, packs.AdjustmentInput{
		PackID: formInt(c, "pack_id"), Delta: int(formInt(c, "delta")), Reason: c.PostForm("reason")})
	a.done(c, fmt.Sprintf("/app/clients/%d", id), err, "adjusted")
}

func (a *App) postGoodwill(c *gin.Context, id int64) {
	coach := coachOf(c)
	value, err := i18n.ParseMoney(c.PostForm("value"), coach.Currency)
	if err != nil {
		err = errs.Field("value_amount", "must be an amount")
	} else {
		_, err = a.Packs.GrantGoodwill(c.Request.Context(), coach, packs.GoodwillInput{ClientIDs: []int64{id},
			Sessions: int(formInt(c, "sessions")), Note: c.PostForm("note"), ValueAmount: value,
			// What it makes up for: the incident the form names, else the note's words.
			Incident: cmp.Or(c.PostForm("incident"), c.PostForm("note"))})
	}
	a.done(c, fmt.Sprintf("/app/clients/%d", id), err, "goodwill_granted")
}

func (a *App) postWaive(c *gin.Context, id int64) {
	b, err := a.Packs.Waive(c.Request.Context(), coachOf(c).ID, id, c.PostForm("reason"))
	back := safeNext(c.PostForm("back"))
	if err == nil && back == "/app" {
		back = fmt.Sprintf("/app/clients/%d", b.ClientID)
	}
	a.done(c, back, err, "waived")
}
