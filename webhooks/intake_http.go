package webhooks

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
)

// Handle is POST /webhooks/stripe. It answers 400 only to what Stripe cannot
// have sent (a bad signature), 5xx only when Carnet failed and wants the
// retry, and 200 to everything else, known or not.
func (in *Intake) Handle(c *gin.Context) {
	payload, err := api.ReadBody(c) // capped at MaxPayload: 413 too_large beyond
	if err != nil {
		api.Fail(c, err)
		return
	}
	res, err := in.Receive(c.Request.Context(), payload, c.GetHeader("Stripe-Signature"))
	api.Respond(c, http.StatusOK, res, err) // Fail logs Carnet's own failure
}
