package packs

import "github.com/gin-gonic/gin"

// Routes mounts the coach routes (API key) and the client routes (client link).
func (s *Service) Routes(coach, client *gin.RouterGroup) {
	coach.POST("/clients", s.postClient)
	coach.GET("/clients", s.listClients)
	coach.GET("/clients/:id", withID(s.getClient))
	coach.PATCH("/clients/:id", withID(s.patchClient))
	coach.POST("/clients/:id/links", withID(s.postClientLink))
	coach.POST("/clients/:id/packs", withID(s.postManualPack))
	coach.GET("/clients/:id/balance", withID(s.getBalance))
	coach.GET("/clients/:id/ledger", withID(s.getLedger))
	coach.POST("/clients/:id/adjustments", withID(s.postAdjustment))
	coach.GET("/balances", s.listBalances)
	coach.POST("/goodwill", s.postGoodwill)

	coach.POST("/offers", s.postOffer)
	coach.GET("/offers", s.listOffers)
	coach.GET("/offers/:id", withID(s.getOffer))
	coach.POST("/offers/:id/archive", withID(s.archiveOffer))

	coach.POST("/charter", s.postCharter)
	coach.GET("/charter", s.getCharter)
	coach.GET("/charter/versions", s.listCharters)

	coach.POST("/sessions", s.postSession)
	coach.GET("/sessions", s.listSessions)
	coach.GET("/sessions/:id", withID(s.getSession))
	coach.PATCH("/sessions/:id", withID(s.patchSession))
	coach.POST("/sessions/:id/cancel", withID(s.cancelSession))
	coach.POST("/sessions/:id/attendance", withID(s.postAttendance))
	coach.POST("/bookings/:id/outcome", withID(s.postOutcome))
	coach.POST("/bookings/:id/waiver", withID(s.postWaiver))

	client.GET("/me", s.getMe)
	client.GET("/me/balance", s.getMyBalance)
	client.GET("/me/ledger", s.getMyLedger)
	client.GET("/me/bookings", s.getMyBookings)
	client.GET("/me/bookings/:id/cancellation", withClientID(s.getMyCancellation))
	client.POST("/me/bookings/:id/cancel", withClientID(s.postMyCancellation))
}
