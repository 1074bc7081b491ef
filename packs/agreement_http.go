package packs

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
)

// getPackAgreement is the signed agreement of one of the coach's packs.
func (s *Service) getPackAgreement(c *gin.Context, coach auth.Coach, id int64) {
	a, err := SignedAgreement(c.Request.Context(), s.DB, coach.ID, 0, id)
	api.Respond(c, http.StatusOK, a, err)
}

// getMyPackAgreement is the agreement the client signed for one of their packs.
func (s *Service) getMyPackAgreement(c *gin.Context, who auth.ClientAuth, id int64) {
	a, err := SignedAgreement(c.Request.Context(), s.DB, who.CoachID, who.ClientID, id)
	api.Respond(c, http.StatusOK, a, err)
}
