package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"carnet/internal/errs"
)

// coachRoutes mounts the signed-in pages. Each handler reads the coach from
// the session: every id in a path is looked up within that coach only.
func (a *App) coachRoutes(g *gin.RouterGroup) {
	g.GET("", a.today)
	g.GET("/settings", a.settings)
	g.POST("/settings", a.postSettings)
	g.POST("/settings/keys", a.postKey)
	g.POST("/settings/keys/:id/revoke", a.withID(a.postRevokeKey))
	g.GET("/bookings/:id/outcome", a.withID(a.outcomePreview))
	g.POST("/bookings/:id/outcome", a.withID(a.postOutcome))
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
