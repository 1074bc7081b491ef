package packs

import (
	"github.com/gin-gonic/gin"

	"carnet/internal/auth"
)

// Routes mounts the coach routes (API key) and the client routes (client link).
func (s *Service) Routes(coach, client *gin.RouterGroup) {
	coach.POST("/clients", s.postClient)
	coach.GET("/clients", s.listClients)
	coach.GET("/clients/:id", auth.WithCoachID(s.getClient))
	coach.PATCH("/clients/:id", auth.WithCoachID(s.patchClient))
	coach.POST("/clients/:id/links", auth.WithCoachID(s.postClientLink))
	coach.POST("/clients/:id/links/revoke", auth.WithCoachID(s.postRevokeLinks))
	coach.POST("/clients/:id/packs", auth.WithCoachID(s.postManualPack))
	coach.GET("/clients/:id/balance", auth.WithCoachID(s.getBalance))
	coach.GET("/clients/:id/ledger", auth.WithCoachID(s.getLedger))
	coach.POST("/clients/:id/adjustments", auth.WithCoachID(s.postAdjustment))
	coach.GET("/balances", s.listBalances)
	coach.POST("/goodwill", s.postGoodwill)

	coach.POST("/offers", s.postOffer)
	coach.GET("/offers", s.listOffers)
	coach.GET("/offers/:id", auth.WithCoachID(s.getOffer))
	coach.POST("/offers/:id/archive", auth.WithCoachID(s.archiveOffer))

	coach.POST("/charter", s.postCharter)
	coach.GET("/charter", s.getCharter)
	coach.GET("/charter/versions", s.listCharters)
	coach.GET("/packs/:id/agreement", auth.WithCoachID(s.getPackAgreement))

	coach.POST("/sessions", s.postSession)
	coach.GET("/sessions", s.listSessions)
	coach.GET("/sessions/:id", auth.WithCoachID(s.getSession))
	coach.PATCH("/sessions/:id", auth.WithCoachID(s.patchSession))
	coach.POST("/sessions/:id/cancel", auth.WithCoachID(s.cancelSession))
	coach.POST("/sessions/:id/attendance", auth.WithCoachID(s.postAttendance))
	coach.POST("/bookings/:id/outcome", auth.WithCoachID(s.postOutcome))
	coach.POST("/bookings/:id/waiver", auth.WithCoachID(s.postWaiver))

	client.GET("/me", s.getMe)
	client.GET("/me/balance", s.getMyBalance)
	client.GET("/me/ledger", s.getMyLedger)
	client.GET("/me/bookings", s.getMyBookings)
	client.GET("/me/bookings/:id/cancellation", withClientID(s.getMyCancellation))
	client.POST("/me/bookings/:id/cancel", withClientID(s.postMyCancellation))
	client.POST("/me/bookings/:id/confirm", withClientID(s.postMyConfirmation))
	client.GET("/me/packs/:id/agreement", withClientID(s.getMyPackAgreement))
}
