package packs

import "github.com/gin-gonic/gin"

// Routes mounts the coach routes (API key) and the client routes (client link).
func (s *Service) Routes(coach, client *gin.RouterGroup) {
	coach.POST("/clients", s.postClient)
	coach.GET("/clients", s.listClients)
	coach.GET("/clients/:id", s.getClient)
	coach.PATCH("/clients/:id", s.patchClient)
	coach.POST("/clients/:id/links", s.postClientLink)

	coach.POST("/offers", s.postOffer)
	coach.GET("/offers", s.listOffers)
	coach.GET("/offers/:id", s.getOffer)
	coach.POST("/offers/:id/archive", s.archiveOffer)

	client.GET("/me", s.getMe)
}
