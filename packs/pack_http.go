package packs

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
)

func (s *Service) postManualPack(c *gin.Context, coach auth.Coach, id int64) {
	var in ManualPackInput
	if decodeInto(c, &in) {
		p, err := s.RecordManualPack(c.Request.Context(), coach, id, in)
		api.Respond(c, http.StatusCreated, p, err)
	}
}
