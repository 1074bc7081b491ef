package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/internal/auth"
	"carnet/internal/errs"
)

// The client's page: reached by the link a coach sends (/c/<token>), which
// is exchanged at once for a session cookie; every other page is under
// /client and reads one client of one coach, from the session only.
const (
	clientCookie    = "carnet_client"
	clientCtxKey    = "web.client"
	clientPathRoot  = "/client"
	clientFlashName = "carnet_client_flash"
)

// clientPages are the client's pages, with their own catalog.
var clientPages = MustPages("templates/client", "locales/client")

// ClientRoutes mounts the link exchange and the client's pages.
func (a *App) ClientRoutes(r gin.IRouter, links *auth.Links) {
	a.links, a.secure = links, SecureCookies(a.BaseURL)
	pub := r.Group("", Headers(clientPages))
	pub.GET("/c/:token", a.openLink)
	pub.POST("/client/fresh-link", a.postFreshLink)

	cl := pub.Group(clientPathRoot, a.requireClient)
	cl.GET("", a.clientHome)
	cl.GET("/bookings/:id/cancel", a.clientCancelPage)
	cl.POST("/bookings/:id/cancel", a.postClientCancel)
	cl.POST("/bookings/:id/confirm", a.postClientConfirm)
	cl.GET("/buy", a.clientBuy)
	cl.GET("/buy/:id", a.clientAgreementPage)
	cl.POST("/buy/:id", a.postClientBuy)
	cl.GET("/packs/:id/agreement", a.clientSignedAgreement)
	cl.POST("/signout", a.postClientSignOut)
}

func (a *App) setClientCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: clientPathRoot, MaxAge: maxAge,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
}

// requireClient finds the client of the session cookie. Without one the
// page says how to get in: by the link the coach sent.
func (a *App) requireClient(c *gin.Context) {
	token, _ := c.Cookie(clientCookie)
	if token != "" {
		who, err := a.links.ClientBySession(c.Request.Context(), token)
		if err == nil {
			c.Set(clientCtxKey, who)
			c.Next()
			return
		}
		if errs.CodeOf(err) != errs.Unauthorized {
			clientPages.Fail(c, clientPages.NewView(c.GetHeader("Accept-Language"), nil, a.Now()), err)
			return
		}
	}
	v := clientPages.NewView(c.GetHeader("Accept-Language"), nil, a.Now())
	v.Home = "/client"
	v.Title = v.T("client.link.title_signed_out")
	clientPages.Render(c, http.StatusUnauthorized, "link", v.with(linkPage{State: "signed_out"}))
	c.Abort()
}

func clientOf(c *gin.Context) auth.ClientAuth {
	who, _ := c.MustGet(clientCtxKey).(auth.ClientAuth)
	return who
}

// clientView starts the View of a client's page: the client's language and
// the coach's time zone, which decides every date and hour shown.
func (a *App) clientView(c *gin.Context, locale, tz string) *View {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc = time.UTC
	}
	v := clientPages.NewView(locale, loc, a.Now())
	v.SignedIn, v.Home, v.Here = true, clientPathRoot, c.Request.URL.RequestURI()
	if raw, err := c.Cookie(clientFlashName); err == nil && raw != "" {
		a.setClientCookie(c, clientFlashName, "", -1)
		if t := v.T("client.notice." + raw); t != "client.notice."+raw {
			v.Notice = t
		} else if t := v.T("error." + raw); t != "error."+raw && validCode(raw) {
			v.Error = t
		}
	}
	return v
}

// clientDone ends a client's form post (PRG): to the page with a notice id,
// or an error code, never words carried by the request.
func (a *App) clientDone(c *gin.Context, to string, err error, notice string) {
	switch e := errs.AsError(err); {
	case err == nil:
		a.setClientCookie(c, clientFlashName, notice, 60)
	case e == nil || e.Code == errs.Internal || e.Code == errs.NotFound:
		clientPages.Fail(c, clientPages.NewView(c.GetHeader("Accept-Language"), nil, a.Now()), err)
		return
	default:
		a.setClientCookie(c, clientFlashName, e.Code, 60)
	}
	c.Redirect(http.StatusSeeOther, to)
}

// with sets the page's data and returns the view, for one-line renders.
func (v *View) with(data any) *View {
	v.Data = data
	return v
}
