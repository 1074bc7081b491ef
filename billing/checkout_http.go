package billing

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
	"carnet/packs"
)

func (s *Service) postCheckout(c *gin.Context) {
	var in CheckoutInput
	if err := api.Decode(c, &in); err != nil {
		api.Fail(c, err)
		return
	}
	out, err := s.StartCheckout(c.Request.Context(), auth.CoachOf(c), in)
	api.Respond(c, http.StatusCreated, out, err)
}

// postMyCheckout lets a client buy for themselves through their link.
func (s *Service) postMyCheckout(c *gin.Context) {
	var in CheckoutInput
	if err := api.Decode(c, &in); err != nil {
		api.Fail(c, err)
		return
	}
	who := auth.ClientOf(c)
	if in.ClientID != 0 && in.ClientID != who.ClientID {
		api.Fail(c, errs.Field("client_id", "a client buys for themselves"))
		return
	}
	in.ClientID = who.ClientID
	in.Signer = &packs.Signature{IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
	coach, err := auth.CoachByID(c.Request.Context(), db.Q(c.Request.Context(), s.DB), who.CoachID)
	if err != nil {
		api.Fail(c, err)
		return
	}
	out, err := s.StartCheckout(c.Request.Context(), coach, in)
	api.Respond(c, http.StatusCreated, out, err)
}

// Routes mounts checkout for coaches and for clients.
func (s *Service) Routes(coach, client *gin.RouterGroup) {
	coach.POST("/checkout", s.postCheckout)
	coach.POST("/clients/:id/end", auth.WithCoachID(s.postEnd))
	client.POST("/me/checkout", s.postMyCheckout)
	client.GET("/me/agreement", s.getMyAgreement)
}
