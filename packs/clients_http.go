package packs

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/db"
	"carnet/internal/errs"
)

func (s *Service) postClient(c *gin.Context) {
	var in ClientInput
	if decodeInto(c, &in) {
		client, err := s.CreateClient(c.Request.Context(), auth.CoachOf(c).ID, in)
		api.Respond(c, http.StatusCreated, client, err)
	}
}

func (s *Service) getClient(c *gin.Context, coach auth.Coach, id int64) {
	client, err := s.Client(c.Request.Context(), coach.ID, id)
	api.Respond(c, http.StatusOK, client, err)
}

func (s *Service) patchClient(c *gin.Context, coach auth.Coach, id int64) {
	var in ClientInput
	if decodeInto(c, &in) {
		client, err := s.UpdateClient(c.Request.Context(), coach.ID, id, in)
		api.Respond(c, http.StatusOK, client, err)
	}
}

func (s *Service) listClients(c *gin.Context) {
	p, err := api.ParsePage(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	list, err := s.Clients(c.Request.Context(), auth.CoachOf(c).ID, p)
	api.Respond(c, http.StatusOK, list, err)
}

// ClientLink is a signed link that lets one client in.
type ClientLink struct {
	Token     string    `json:"token"`
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

func (s *Service) postClientLink(c *gin.Context, coach auth.Coach, id int64) {
	in := struct {
		TTLHours *int `json:"ttl_hours"`
	}{}
	body, err := api.ReadBody(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	if len(body) > 0 {
		if err := api.DecodeBytes(body, &in); err != nil {
			api.Fail(c, err)
			return
		}
	}
	ttl := LinkTTL
	if in.TTLHours != nil {
		ttl = time.Duration(*in.TTLHours) * time.Hour
		if ttl < time.Hour || ttl > auth.MaxLinkTTL {
			api.Fail(c, errs.Field("ttl_hours", "must be from 1 to %d", int(auth.MaxLinkTTL.Hours())))
			return
		}
	}
	if _, err := s.Client(c.Request.Context(), coach.ID, id); err != nil {
		api.Fail(c, err)
		return
	}
	token, expires, err := s.Links.IssueStored(c.Request.Context(), db.Q(c.Request.Context(), s.DB), coach.ID, id, ttl)
	api.Respond(c, http.StatusCreated, ClientLink{Token: token, URL: s.BaseURL + "/c/" + token, ExpiresAt: expires}, err)
}

// postRevokeLinks revokes every link the client was given and signs them
// out of their page on every device.
func (s *Service) postRevokeLinks(c *gin.Context, coach auth.Coach, id int64) {
	if _, err := s.Client(c.Request.Context(), coach.ID, id); err != nil {
		api.Fail(c, err)
		return
	}
	err := s.Links.RevokeLinks(c.Request.Context(), coach.ID, id)
	api.Respond(c, http.StatusOK, gin.H{"client_id": id, "revoked": true}, err)
}

// Me is what a client sees of their own profile: not the coach's notes.
type Me struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Email  string `json:"email"`
	Phone  string `json:"phone"`
	Locale string `json:"locale"`
}

func (s *Service) getMe(c *gin.Context) {
	who := auth.ClientOf(c)
	client, err := s.Client(c.Request.Context(), who.CoachID, who.ClientID)
	me := Me{ID: client.ID, Name: client.Name, Email: client.Email, Phone: client.Phone, Locale: client.Locale}
	api.Respond(c, http.StatusOK, me, err)
}
