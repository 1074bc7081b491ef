package packs

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/db"
)

func (s *Service) postCharter(c *gin.Context) {
	var in CharterInput
	if decodeInto(c, &in) {
		ch, err := s.PublishCharter(c.Request.Context(), auth.CoachOf(c), in)
		api.Respond(c, http.StatusCreated, ch, err)
	}
}

func (s *Service) getCharter(c *gin.Context) {
	ch, err := s.CurrentCharter(c.Request.Context(), db.Q(c.Request.Context(), s.DB), auth.CoachOf(c))
	api.Respond(c, http.StatusOK, ch, err)
}

func (s *Service) listCharters(c *gin.Context) {
	rows, err := s.Charters(c.Request.Context(), auth.CoachOf(c).ID)
	api.Respond(c, http.StatusOK, gin.H{"data": rows}, err)
}
