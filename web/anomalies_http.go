package web

import (
	"carnet/reconcile"
	"fmt"

	"github.com/gin-gonic/gin"
)

type anomalyRow struct {
	reconcile.Anomaly
	Client string
}

type anomaliesData struct {
	Open, Closed []anomalyRow
}

// anomalies lists open anomalies first, then the latest closed ones.
func (a *App) anomalies(c *gin.Context) {
	coach := coachOf(c)
	v := a.view(c, "anomalies")
	ctx := c.Request.Context()
	open, err := a.Anomalies.List(ctx, coach.ID, reconcile.AnomalyFilter{State: reconcile.StateOpen, Limit: 200})
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	all, err := a.Anomalies.List(ctx, coach.ID, reconcile.AnomalyFilter{Limit: 100})
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	var ids []int64
	for _, x := range append(open, all...) {
		if x.ClientID != nil {
			ids = append(ids, *x.ClientID)
		}
	}
	names, err := a.Packs.ClientNames(ctx, coach.ID, ids)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	row := func(x reconcile.Anomaly) anomalyRow {
		r := anomalyRow{Anomaly: x}
		if x.ClientID != nil {
			r.Client = names[*x.ClientID]
		}
		return r
	}
	var d anomaliesData
	for _, x := range open {
		d.Open = append(d.Open, row(x))
	}
	for _, x := range all {
		if x.State != reconcile.StateOpen {
			d.Closed = append(d.Closed, row(x))
		}
	}
	v.Title = v.T("anomalies.title")
	v.Data = d
	a.render(c, "anomalies", v)
}

type anomalyData struct {
	reconcile.Detail
	Client    string
	Currency  string
	Evidence  []evidenceLine
	StripeIDs []string
}

func (a *App) anomaly(c *gin.Context, id int64) {
	coach := coachOf(c)
	v := a.view(c, "anomalies")
	ctx := c.Request.Context()
	d, err := a.Anomalies.Get(ctx, coach.ID, id)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	data := anomalyData{Detail: d, Currency: coach.Currency}
	if d.Currency != nil {
		data.Currency = *d.Currency
	}
	if d.ClientID != nil {
		names, err := a.Packs.ClientNames(ctx, coach.ID, []int64{*d.ClientID})
		if err != nil {
			a.pages.Fail(c, v, err)
			return
		}
		data.Client = names[*d.ClientID]
	}
	data.Evidence = evidenceLines(v, d.Evidence, data.Currency)
	data.StripeIDs = stripeIDs(data.Evidence)
	v.Title = v.T("anomaly.kind." + d.Kind)
	v.Data = data
	a.render(c, "anomaly", v)
}

func (a *App) postDecide(state string) func(c *gin.Context, id int64) {
	return func(c *gin.Context, id int64) {
		_, err := a.Anomalies.Decide(c.Request.Context(), coachOf(c).ID, id, state, c.PostForm("note"))
		a.done(c, fmt.Sprintf("/app/anomalies/%d", id), err, "anomaly_"+state)
	}
}

func (a *App) postRefund(c *gin.Context, id int64) {
	_, err := a.Anomalies.RefundExcess(c.Request.Context(), coachOf(c).ID, id, "coach")
	a.done(c, fmt.Sprintf("/app/anomalies/%d", id), err, "anomaly_refunded")
}
