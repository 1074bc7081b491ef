package billing

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/errs"
)

func (s *Service) getMyAgreement(c *gin.Context) {
	offerID, err := strconv.ParseInt(c.Query("offer_id"), 10, 64)
	if err != nil || offerID <= 0 {
		api.Fail(c, errs.Field("offer_id", "is required"))
		return
	}
	a, err := s.AgreementToRead(c.Request.Context(), auth.ClientOf(c), offerID, c.Query("plan"))
	api.Respond(c, http.StatusOK, a, err)
}
