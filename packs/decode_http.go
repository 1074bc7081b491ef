package packs

import (
	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
)

// withClientID runs fn with the client of the link and the :id of the path.
func withClientID(fn func(c *gin.Context, who auth.ClientAuth, id int64)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := api.PathID(c, "id")
		if err != nil {
			api.Fail(c, err)
			return
		}
		fn(c, auth.ClientOf(c), id)
	}
}

// decodeInto reads the body into v, answering the error itself.
func decodeInto(c *gin.Context, v any) bool {
	if err := api.Decode(c, v); err != nil {
		api.Fail(c, err)
		return false
	}
	return true
}
