package web

import (
	"strings"

	"github.com/gin-gonic/gin"

	"carnet/internal/auth"
	"carnet/internal/i18n"
	"carnet/webhooks"
)

type settingsData struct {
	Coach     auth.Coach
	Locales   []string
	Keys      []auth.APIKey
	NewKey    string // shown once, right after it is created
	Stripe    string
	Endpoint  webhooks.EndpointStatus
	Timezones []string
	Threshold int // incidents that flag a client in the reliability report (0: no reports here)
}

// commonZones are offered first; any IANA zone can be typed.
var commonZones = []string{"Europe/Paris", "Europe/Madrid", "Europe/Brussels", "Europe/Zurich", "Europe/London",
	"Europe/Lisbon", "America/Montreal", "America/Mexico_City", "America/Bogota", "America/Buenos_Aires", "UTC"}

func (a *App) settings(c *gin.Context) { a.renderSettings(c, "") }

func (a *App) renderSettings(c *gin.Context, newKey string) {
	coach := coachOf(c)
	v := a.view(c, "settings")
	ctx := c.Request.Context()
	keys, err := auth.APIKeys(ctx, a.DB, coach.ID)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	ep, err := webhooks.Status(ctx, a.DB)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	d := settingsData{Coach: coach, Locales: i18n.Locales, Keys: keys, NewKey: newKey, Stripe: a.StripeMode,
		Endpoint: ep, Timezones: commonZones}
	if a.Reports != nil {
		if d.Threshold, err = a.Reports.Threshold(ctx, a.DB, coach.ID); err != nil {
			a.pages.Fail(c, v, err)
			return
		}
	}
	v.Title = v.T("settings.title")
	v.Data = d
	a.render(c, "settings", v)
}

func (a *App) postSettings(c *gin.Context) {
	_, err := auth.UpdateSettings(c.Request.Context(), a.DB, coachOf(c).ID, auth.CoachSettings{
		Locale: c.PostForm("locale"), Timezone: strings.TrimSpace(c.PostForm("timezone")),
		Currency: strings.ToUpper(strings.TrimSpace(c.PostForm("currency"))),
		Country:  strings.ToUpper(strings.TrimSpace(c.PostForm("country")))})
	a.refused(c, "/app/settings", err, "saved", func() { a.settings(c) })
}

// postKey creates a key and shows it on the answer itself, once: it is
// never stored, so it cannot travel through a redirect.
func (a *App) postKey(c *gin.Context) {
	label := strings.TrimSpace(c.PostForm("label"))
	if err := auth.ValidLabel(label); err != nil {
		a.done(c, "/app/settings", err, "")
		return
	}
	key, err := auth.IssueKey(c.Request.Context(), a.DB, coachOf(c).ID, label)
	if err != nil {
		a.done(c, "/app/settings", err, "")
		return
	}
	a.renderSettings(c, key)
}

func (a *App) postRevokeKey(c *gin.Context, id int64) {
	err := auth.RevokeKey(c.Request.Context(), a.DB, coachOf(c).ID, id, a.Now())
	a.done(c, "/app/settings", err, "key_revoked")
}
