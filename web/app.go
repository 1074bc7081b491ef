package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"carnet/billing"
	"carnet/internal/auth"
	"carnet/packs"
	"carnet/reconcile"
	"carnet/reports"
)

// App is the coach's application in the browser, under /app. Its pages call
// the domain services directly (no HTTP round trip to our own API) and never
// run SQL themselves.
type App struct {
	DB        *sqlx.DB
	Packs     *packs.Service
	Billing   *billing.Service
	Anomalies *reconcile.Reconciler
	Reports   *reports.Service
	Now       func() time.Time
	BaseURL   string
	// Mailer is true when SMTP_URL is set; without it the sign-in page says
	// where a link can be had (carnet demo prints one).
	Mailer bool
	// StripeMode is local, test or live (billing.Mode).
	StripeMode string

	pages  *Pages
	secure bool
	links  *auth.Links // client links and the client's page sessions
}

// coachPages are the coach app's pages, parsed once.
var coachPages = MustPages("templates/coach", "locales")

// Routes mounts the coach's pages and the static assets.
func (a *App) Routes(r gin.IRouter) {
	a.pages = coachPages
	a.secure = SecureCookies(a.BaseURL)
	r.GET("/assets/:name", serveAssets)
	r.GET("/dashboard", func(c *gin.Context) { c.Redirect(http.StatusMovedPermanently, "/app") })

	pub := r.Group("/app", Headers(a.pages))
	pub.GET("/signin", a.signInPage)
	pub.POST("/signin", a.postSignIn)
	pub.GET("/signin/:token", a.signInConfirm)
	pub.POST("/signin/:token", a.postSignInToken)
	pub.POST("/signin-key", a.postSignInKey)

	app := pub.Group("", a.requireCoach)
	app.POST("/signout", a.postSignOut)
	app.POST("/signout-everywhere", a.postSignOutEverywhere)
	a.coachRoutes(app)
	app.GET("/packs/:id/agreement", a.coachSignedAgreement)
}

// NotFound answers an unknown /app path with the 404 page, and any other
// with fallback (the API's JSON error).
func (a *App) NotFound(fallback gin.HandlerFunc) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := c.Request.URL.Path
		if p != "/app" && !strings.HasPrefix(p, "/app/") {
			fallback(c)
			return
		}
		Headers(a.pages)(c)
		if c.IsAborted() {
			return
		}
		v := a.publicView(c)
		v.Title = v.T("error.title.not_found")
		v.Error = v.T("error.not_found")
		a.pages.Render(c, http.StatusNotFound, "error", v)
	}
}
