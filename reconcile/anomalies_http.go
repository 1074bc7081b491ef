package reconcile

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/errs"
)

// Routes mounts the coach's anomaly routes.
func (r *Reconciler) Routes(coach *gin.RouterGroup) {
	coach.GET("/anomalies", r.list)
	coach.GET("/anomalies/:id", auth.WithCoachID(r.show))
	coach.POST("/anomalies/:id/resolve", auth.WithCoachID(r.decide(StateResolved)))
	coach.POST("/anomalies/:id/dismiss", auth.WithCoachID(r.decide(StateDismissed)))
	coach.POST("/anomalies/:id/refund", auth.WithCoachID(r.refund))
}

var anomalyStates = map[string]bool{"": true, StateOpen: true, StateResolved: true, StateDismissed: true}

func (r *Reconciler) list(c *gin.Context) {
	p, err := api.ParsePage(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	var client int64
	if s := c.Query("client_id"); s != "" {
		if client, err = strconv.ParseInt(s, 10, 64); err != nil || client <= 0 {
			api.Fail(c, errs.Field("client_id", "must be a client id"))
			return
		}
	}
	rows, err := r.List(c.Request.Context(), auth.CoachOf(c).ID, AnomalyFilter{State: c.Query("state"),
		Kind: c.Query("kind"), ClientID: client, After: p.After, Limit: p.Limit})
	api.Respond(c, http.StatusOK, api.NewList(rows, p.Limit, func(a Anomaly) int64 { return a.ID }), err)
}

func (r *Reconciler) show(c *gin.Context, coach auth.Coach, id int64) {
	d, err := r.Get(c.Request.Context(), coach.ID, id)
	api.Respond(c, http.StatusOK, d, err)
}

// decide is the coach closing an anomaly, with who and why.
func (r *Reconciler) decide(state string) func(c *gin.Context, coach auth.Coach, id int64) {
	return func(c *gin.Context, coach auth.Coach, id int64) {
		var in struct {
			Note string `json:"note"`
		}
		if err := api.Decode(c, &in); err != nil {
			api.Fail(c, err)
			return
		}
		a, err := r.Decide(c.Request.Context(), coach.ID, id, state, in.Note)
		api.Respond(c, http.StatusOK, a, err)
	}
}

func (r *Reconciler) refund(c *gin.Context, coach auth.Coach, id int64) {
	a, err := r.RefundExcess(c.Request.Context(), coach.ID, id, "coach")
	api.Respond(c, http.StatusOK, a, err)
}
