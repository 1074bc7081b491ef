package notify

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"carnet/internal/api"
)

// Handler serves GET /v1/notifications (?limit=1..100, ?cursor=) for the
// coach coachIDOf authenticates, in the shape of every list.
func Handler(d *sqlx.DB, coachIDOf func(*gin.Context) int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := api.ParsePage(c)
		if err != nil {
			api.Fail(c, err)
			return
		}
		rows, err := List(c.Request.Context(), d, coachIDOf(c), Query{Before: p.After, Limit: p.Limit + 1})
		if err != nil {
			api.Fail(c, err)
			return
		}
		c.JSON(http.StatusOK, api.NewList(rows, p.Limit, func(n Notification) int64 { return n.ID }))
	}
}
