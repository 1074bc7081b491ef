package packs

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
)

func (s *Service) postOffer(c *gin.Context) {
	var in OfferInput
	if decodeInto(c, &in) {
		o, err := s.CreateOffer(c.Request.Context(), auth.CoachOf(c), in)
		api.Respond(c, http.StatusCreated, o, err)
	}
}

func (s *Service) getOffer(c *gin.Context, coach auth.Coach, id int64) {
	o, err := s.Offer(c.Request.Context(), coach.ID, id)
	api.Respond(c, http.StatusOK, o, err)
}

func (s *Service) listOffers(c *gin.Context) {
	p, err := api.ParsePage(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	list, err := s.Offers(c.Request.Context(), auth.CoachOf(c).ID, c.Query("status"), p)
	api.Respond(c, http.StatusOK, list, err)
}

func (s *Service) archiveOffer(c *gin.Context, coach auth.Coach, id int64) {
	o, err := s.ArchiveOffer(c.Request.Context(), coach.ID, id)
	api.Respond(c, http.StatusOK, o, err)
}
