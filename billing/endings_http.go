package billing

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
)

func (s *Service) postEnd(c *gin.Context, coach auth.Coach, id int64) {
	var in struct {
		Reason string `json:"reason"`
	}
	if c.Request.ContentLength != 0 { // the reason is optional, and so is the body
		if err := api.Decode(c, &in); err != nil {
			api.Fail(c, err)
			return
		}
	}
	e, err := s.EndClient(c.Request.Context(), coach, id, in.Reason)
	api.Respond(c, http.StatusCreated, e, err)
}
