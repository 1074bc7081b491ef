package auth

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"carnet/internal/api"
	"carnet/internal/errs"
)

const (
	coachKey  = "carnet.coach"
	clientKey = "carnet.client"
)

func bearer(c *gin.Context) string {
	h := c.GetHeader("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// RequireCoach authenticates the coach's API key (Authorization: Bearer
// ck_...), from d's KeyCache when it knows the key. Failures are counted per
// address (see MaxFailures).
func RequireCoach(d *sqlx.DB, now func() time.Time) gin.HandlerFunc {
	return func(c *gin.Context) {
		key := bearer(c)
		if !strings.HasPrefix(key, "ck_") {
			failed(c, d, now, key, errs.New(errs.Unauthorized, "an API key is required: Authorization: Bearer ck_..."))
			return
		}
		coach, err := coachByKey(c.Request.Context(), d, key, c.ClientIP(), now())
		if err != nil {
			failed(c, d, now, key, err)
			return
		}
		c.Set(coachKey, coach)
		api.SetScope(c, "coach:"+strconv.FormatInt(coach.ID, 10))
		c.Next()
	}
}

// failed answers a failed authentication (see CountFailure).
func failed(c *gin.Context, d *sqlx.DB, now func() time.Time, sent string, err error) {
	api.Fail(c, CountFailure(c.Request.Context(), d, c.ClientIP(), now(), sent, err))
}

// CoachOf returns the coach RequireCoach authenticated.
func CoachOf(c *gin.Context) Coach {
	coach, _ := c.MustGet(coachKey).(Coach)
	return coach
}

// ClientAuth is who a client link authenticates.
type ClientAuth struct{ CoachID, ClientID int64 }

// RequireClient authenticates a client link (Authorization: Bearer cl_...).
// Failures are counted per address, as for API keys.
func (l *Links) RequireClient() gin.HandlerFunc {
	return func(c *gin.Context) {
		token := bearer(c)
		coachID, clientID, err := l.verifyFrom(c.Request.Context(), token, c.ClientIP())
		if err != nil {
			failed(c, l.d, l.now, token, err)
			return
		}
		c.Set(clientKey, ClientAuth{CoachID: coachID, ClientID: clientID})
		api.SetScope(c, "client:"+strconv.FormatInt(clientID, 10))
		c.Next()
	}
}

// ClientOf returns the client RequireClient authenticated.
func ClientOf(c *gin.Context) ClientAuth {
	a, _ := c.MustGet(clientKey).(ClientAuth)
	return a
}

// WithCoachID runs fn with the authenticated coach and the :id of the path
// (an id that is not a positive integer answers not found).
func WithCoachID(fn func(c *gin.Context, coach Coach, id int64)) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, err := api.PathID(c, "id")
		if err != nil {
			api.Fail(c, err)
			return
		}
		fn(c, CoachOf(c), id)
	}
}
