package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"carnet/internal/errs"
	"carnet/reconcile"
)

// coachRoutes mounts the signed-in pages. Each handler reads the coach from
// the session: every id in a path is looked up within that coach only.
func (a *App) coachRoutes(g *gin.RouterGroup) {
	g.GET("", a.today)
	g.GET("/clients", a.clients)
	g.POST("/clients", a.postClient)
	g.GET("/clients/:id", a.withID(a.client))
	g.POST("/clients/:id", a.withID(a.postClientEdit))
	g.POST("/clients/:id/sell", a.withID(a.postSell))
	g.POST("/clients/:id/link", a.withID(a.postClientLink))
	g.POST("/clients/:id/adjust", a.withID(a.postAdjust))
	g.POST("/clients/:id/goodwill", a.withID(a.postGoodwill))
	g.POST("/bookings/:id/waive", a.withID(a.postWaive))
	g.GET("/sessions", a.sessions)
	g.GET("/sessions/new", a.newSession)
	g.POST("/sessions", a.postSession)
	g.GET("/sessions/:id", a.withID(a.session))
	g.POST("/sessions/:id", a.withID(a.postReschedule))
	g.POST("/sessions/:id/cancel", a.withID(a.postCancelSession))
	g.GET("/anomalies", a.anomalies)
	g.GET("/anomalies/:id", a.withID(a.anomaly))
	g.POST("/anomalies/:id/resolve", a.withID(a.postDecide(reconcile.StateResolved)))
	g.POST("/anomalies/:id/dismiss", a.withID(a.postDecide(reconcile.StateDismissed)))
	g.POST("/anomalies/:id/refund", a.withID(a.postRefund))
	g.GET("/offers", a.offers)
	g.POST("/offers", a.postOffer)
	g.POST("/offers/:id/archive", a.withID(a.postArchiveOffer))
	g.POST("/charter/preview", a.postCharterPreview)
	g.POST("/charter", a.postCharter)
	g.GET("/settings", a.settings)
	g.POST("/settings", a.postSettings)
	g.POST("/settings/keys", a.postKey)
	g.POST("/settings/keys/:id/revoke", a.withID(a.postRevokeKey))
	g.GET("/bookings/:id/outcome", a.withID(a.outcomePreview))
	g.POST("/bookings/:id/outcome", a.withID(a.postOutcome))
	if a.Reports != nil { // an App built for a test of other pages may have none
		g.GET("/reports", a.reportsPage)
		g.GET("/reports/attendance", a.attendanceSheet)
		a.reportRoutes(g)
		g.POST("/settings/reports", a.postReportSettings)
		a.Reports.Mount(g.Group("/reports/data"), coachOf)
	}
}

// withID parses the :id of a path; anything but a positive integer is the
// 404 page, like another coach's id.
func (a *App) withID(fn func(c *gin.Context, id int64)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := strconv.ParseInt(c.Param("id"), 10, 64)
		if err != nil || id <= 0 {
			a.pages.Fail(c, a.view(c, ""), errs.NotFoundf("no such page"))
			return
		}
		fn(c, id)
	}
}

func (a *App) render(c *gin.Context, page string, v *View) { a.pages.Render(c, http.StatusOK, page, v) }
