package packs

import (
	"carnet/internal/api"
	"carnet/internal/auth"
	"net/http"

	"github.com/gin-gonic/gin"
)

func (s *Service) postAdjustment(c *gin.Context, coach auth.Coach, id int64) {
	if _, err := s.Client(c.Request.Context(), coach.ID, id); err != nil {
		api.Fail(c, err)
		return
	}
	var in AdjustmentInput
	if decodeInto(c, &in) {
		p, err := s.Adjust(c.Request.Context(), coach.ID, id, in)
		api.Respond(c, http.StatusCreated, p, err)
	}
}

func (s *Service) postGoodwill(c *gin.Context) {
	var in GoodwillInput
	if decodeInto(c, &in) {
		grants, err := s.GrantGoodwill(c.Request.Context(), auth.CoachOf(c), in)
		api.Respond(c, http.StatusCreated, gin.H{"data": grants}, err)
	}
}

func (s *Service) getLedger(c *gin.Context, coach auth.Coach, id int64) {
	s.ledgerOf(c, coach.ID, id)
}

func (s *Service) getMyLedger(c *gin.Context) {
	who := auth.ClientOf(c)
	s.ledgerOf(c, who.CoachID, who.ClientID)
}

func (s *Service) ledgerOf(c *gin.Context, coachID, clientID int64) {
	p, err := api.ParsePage(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	list, err := s.Ledger(c.Request.Context(), coachID, clientID, p)
	api.Respond(c, http.StatusOK, list, err)
}
