package reconcile

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/errs"
)

// Routes mounts the coach's anomaly routes.
func (r *Reconciler) Routes(coach *gin.RouterGroup) {
	coach.GET("/anomalies", r.list)
	coach.GET("/anomalies/:id", auth.WithCoachID(r.show))
	coach.POST("/anomalies/:id/resolve", auth.WithCoachID(r.decide("resolved")))
	coach.POST("/anomalies/:id/dismiss", auth.WithCoachID(r.decide("dismissed")))
	coach.POST("/anomalies/:id/refund", auth.WithCoachID(r.refund))
}

var anomalyStates = map[string]bool{"": true, "open": true, "resolved": true, "dismissed": true}

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

// disputeEvidence is what a coach sends Stripe to contest a dispute: the
// charter version accepted at checkout and every session the pack paid for.
func disputeEvidence(ctx context.Context, d *sqlx.DB, coachID, packID int64) (any, any, error) {
	var charter []map[string]any
	var attendance []map[string]any
	rows, err := d.QueryxContext(ctx, `SELECT cv.version, cv.notice_hours, cv.late_cancel_action, cv.no_show_action,
		cv.created_at AS published_at, coalesce(p.terms_accepted_at, p.activated_at) AS accepted_at,
		p.terms_accepted_at IS NOT NULL AS terms_consent_at_checkout
		FROM packs p JOIN charter_versions cv ON cv.id = p.charter_version_id WHERE p.id = $1 AND p.coach_id = $2`, packID, coachID)
	if err != nil {
		return nil, nil, err
	}
	charter, err = scanMaps(rows)
	if err != nil {
		return nil, nil, err
	}
	rows, err = d.QueryxContext(ctx, `SELECT s.starts_at, s.duration_minutes, b.outcome, b.outcome_at, b.announced_at, e.kind AS ledger, e.delta,
		b.client_confirmed_at
		FROM ledger_entries e JOIN bookings b ON b.id = e.booking_id JOIN sessions s ON s.id = b.session_id
		WHERE e.pack_id = $1 AND e.coach_id = $2 ORDER BY s.starts_at`, packID, coachID)
	if err != nil {
		return nil, nil, err
	}
	attendance, err = scanMaps(rows)
	var ch any
	if len(charter) == 1 {
		ch = charter[0]
	}
	if attendance == nil {
		attendance = []map[string]any{}
	}
	return ch, attendance, err
}

func scanMaps(rows *sqlx.Rows) ([]map[string]any, error) {
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		m := map[string]any{}
		if err := rows.MapScan(m); err != nil {
			return nil, err
		}
		for k, v := range m {
			if b, ok := v.([]byte); ok {
				m[k] = string(b)
			}
		}
		out = append(out, m)
	}
	return out, rows.Err()
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
