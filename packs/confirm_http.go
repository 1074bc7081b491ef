package packs

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
)

func (s *Service) postMyConfirmation(c *gin.Context, who auth.ClientAuth, id int64) {
	at, err := s.ConfirmAttendance(c.Request.Context(), who, id)
	api.Respond(c, http.StatusOK, gin.H{"booking_id": id, "client_confirmed_at": at}, err)
}
