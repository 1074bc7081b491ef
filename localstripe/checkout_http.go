package localstripe

import (
	"html/template"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/stripe/stripe-go/v76/webhook"

	"carnet/billing"
	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/errs"
	"carnet/packs"
	"carnet/webhooks"
)

// LocalCheckout stands in for Stripe's checkout page when Carnet runs
// without a Stripe account: each button makes Carnet receive the signed
// events Stripe would send, through the same intake.
type LocalCheckout struct {
	Intake *webhooks.Intake
	Links  *auth.Links // checks the signed token of the page's URL
}

// pack reads the pack id and refuses without the token Carnet handed out
// with the checkout URL: the same answer as an unknown pack, so a stranger
// learns nothing.
func (l *LocalCheckout) pack(c *gin.Context) (int64, bool) {
	id, err := api.PathID(c, "id")
	if err == nil && !l.Links.VerifyCheckout(id, c.Query("token")) {
		err = errs.NotFoundf("no checkout for pack %s, or this link is not the one Carnet gave", c.Param("id"))
	}
	if err != nil {
		api.Fail(c, err)
		return 0, false
	}
	return id, true
}

// Routes mounts the page.
func (l *LocalCheckout) Routes(r gin.IRouter) {
	r.GET("/checkout/local/:id", l.page)
	r.POST("/checkout/local/:id", l.act)
}

var localPage = template.Must(template.New("checkout").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Carnet test checkout — pack {{.ID}}</title>
<style>body{font:16px system-ui;max-width:40rem;margin:2rem auto;padding:0 1rem}button{margin:.2rem;padding:.5rem .8rem}
table{border-collapse:collapse}td,th{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:left}.note{color:#666}</style></head>
<body><h1>Test checkout</h1>
<p class="note">No Stripe account is configured, so this page plays Stripe's part: each button makes Carnet
receive the signed webhook events Stripe would send.</p>
<p>Pack {{.ID}} — {{.Offer}} — <strong>{{.Status}}</strong>{{if eq .Kind "sessions"}}, {{.Remaining}} sessions left{{end}}</p>
<table><tr><th>#</th><th>due</th><th>amount</th><th>status</th></tr>
{{range .Installments}}<tr><td>{{.Seq}}</td><td>{{.DueAt.Format "2006-01-02"}}</td><td>{{.Amount}} {{.Currency}} (minor units)</td><td>{{.Status}}</td></tr>{{end}}
</table>
<form method="post">{{range .Actions}}<button name="action" value="{{.}}">{{index $.Labels .}}</button>{{end}}</form>
{{with .Answer}}<p class="note">Carnet answered: {{.}}</p>{{end}}
</body></html>`))

func (l *LocalCheckout) page(c *gin.Context) {
	id, ok := l.pack(c)
	if !ok {
		return
	}
	v, err := checkoutPage(c.Request.Context(), l.Intake.DB, id)
	if err != nil {
		api.Fail(c, err)
		return
	}
	switch {
	case v.Status == packs.StatusPending:
		v.Actions = []string{"card", "declined", "sepa", "sepa_ok", "sepa_fail", "expire"}
	case v.Plan == billing.PlanInstallments:
		v.Actions = []string{"next_paid", "next_failed", "refund", "dispute_lost"}
	default:
		v.Actions = []string{"refund", "dispute_lost"}
	}
	v.Labels, v.Answer = Actions, c.Query("answer")
	c.Status(http.StatusOK)
	c.Header("Content-Type", "text/html; charset=utf-8")
	_ = localPage.Execute(c.Writer, v)
}

func (l *LocalCheckout) act(c *gin.Context) {
	id, ok := l.pack(c)
	if !ok {
		return
	}
	in := l.Intake
	payloads, err := Simulate(c.Request.Context(), in.DB, id, c.PostForm("action"), in.Now().UTC())
	if err != nil {
		api.Fail(c, err)
		return
	}
	answer := "ok"
	for _, p := range payloads {
		signed := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: p, Secret: in.Secret})
		if _, err := in.Receive(c.Request.Context(), p, signed.Header); err != nil {
			// Plain words for the page; the cause goes to the log.
			answer = "Carnet could not record this payment; try again"
			if e := errs.AsError(err); e != nil && e.Cause == nil {
				answer = e.Message
			} else {
				in.Log.ErrorContext(c.Request.Context(), "local checkout", "pack_id", id, "err", err)
			}
		}
	}
	q := url.Values{"token": {c.Query("token")}, "answer": {answer}}
	c.Redirect(http.StatusSeeOther, c.Request.URL.Path+"?"+q.Encode())
}
