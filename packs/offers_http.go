package packs

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
)

func (s *Service) postOffer(c *gin.Context) {
	var in OfferInput
	if err := api.Decode(c, &in); err != nil {
		api.Fail(c, err)
		return
	}
	o, err := s.CreateOffer(c.Request.Context(), auth.CoachOf(c), in)
	api.Respond(c, http.StatusCreated, o, err)
}

func (s *Service) getOffer(c *gin.Context) {
	id, err := api.PathID(c, "id")
	if err != nil {
		api.Fail(c, err)
		return
	}
	o, err := s.Offer(c.Request.Context(), auth.CoachOf(c).ID, id)
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

func (s *Service) archiveOffer(c *gin.Context) {
	id, err := api.PathID(c, "id")
	if err != nil {
		api.Fail(c, err)
		return
	}
	o, err := s.ArchiveOffer(c.Request.Context(), auth.CoachOf(c).ID, id)
	api.Respond(c, http.StatusOK, o, err)
}
