package web

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/internal/auth"
	"carnet/internal/errs"
)

// Cookie names. The session cookie holds a random token whose hash is a
// row of web_sessions; the flash cookie holds only a message id.
const (
	sessionCookie = "carnet_session"
	flashCookie   = "carnet_flash"
	coachCtxKey   = "web.coach"
	tokenCtxKey   = "web.session"
)

// CSP is the pages' Content-Security-Policy: scripts, styles and images
// from this server only, no inline script or style, forms posted only here.
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// SecureCookies reports whether cookies must carry Secure: everywhere but
// a loopback address, where the demo runs over plain HTTP.
func SecureCookies(baseURL string) bool {
	u, err := url.Parse(baseURL)
	if err != nil {
		return true
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// Headers sets the security headers of every page and refuses cross-site
// form posts (Go's CrossOriginProtection reads Sec-Fetch-Site and Origin).
func Headers(p *Pages) gin.HandlerFunc {
	cop := http.NewCrossOriginProtection()
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		if err := cop.Check(c.Request); err != nil {
			v := p.NewView(c.GetHeader("Accept-Language"), nil, time.Now())
			v.Title = v.T("error.title.cross_site")
			v.Error = v.T("error.cross_site")
			p.Render(c, http.StatusForbidden, "error", v)
			c.Abort()
			return
		}
		c.Next()
	}
}

func (a *App) setCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{Name: name, Value: value, Path: "/app", MaxAge: maxAge,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
}

// requireCoach finds the coach of the session cookie; without a live
// session a page sends the browser to sign in and comes back after.
func (a *App) requireCoach(c *gin.Context) {
	token, _ := c.Cookie(sessionCookie)
	if token != "" {
		coach, err := auth.CoachBySession(c.Request.Context(), a.DB, token, a.Now())
		if err == nil {
			c.Set(coachCtxKey, coach)
			c.Set(tokenCtxKey, token)
			c.Next()
			return
		}
		if errs.CodeOf(err) != errs.Unauthorized {
			a.pages.Fail(c, a.pages.NewView(c.GetHeader("Accept-Language"), nil, a.Now()), err)
			return
		}
	}
	next := ""
	if c.Request.Method == http.MethodGet {
		next = "?next=" + url.QueryEscape(c.Request.URL.RequestURI())
	}
	c.Redirect(http.StatusSeeOther, "/app/signin"+next)
	c.Abort()
}

func coachOf(c *gin.Context) auth.Coach {
	coach, _ := c.MustGet(coachCtxKey).(auth.Coach)
	return coach
}

// view starts the View of a signed-in page: the coach's language and time
// zone, and the message a redirect left in the flash cookie.
func (a *App) view(c *gin.Context, nav string) *View {
	coach := coachOf(c)
	loc, err := time.LoadLocation(coach.Timezone)
	if err != nil {
		loc = time.UTC
	}
	v := a.pages.NewView(coach.Locale, loc, a.Now())
	v.SignedIn, v.Name, v.Nav, v.Here, v.Currency = true, coach.Name, nav, c.Request.URL.RequestURI(), coach.Currency
	a.readFlash(c, v)
	return v
}

// publicView is the View of a page seen before signing in, in the
// browser's language.
func (a *App) publicView(c *gin.Context) *View {
	v := a.pages.NewView(c.GetHeader("Accept-Language"), nil, a.Now())
	a.readFlash(c, v)
	return v
}

// flash leaves a message for the page a redirect leads to: "ok:ID" (a
// catalog id) or, for an error, its code and field. Only ids travel, so
// nothing a request carries can be written into a page.
func (a *App) flash(c *gin.Context, value string) {
	a.setCookie(c, flashCookie, url.QueryEscape(value), 60)
}

func (a *App) readFlash(c *gin.Context, v *View) {
	raw, err := c.Cookie(flashCookie)
	if err != nil || raw == "" {
		return
	}
	a.setCookie(c, flashCookie, "", -1)
	value, _ := url.QueryUnescape(raw)
	kind, rest, _ := strings.Cut(value, ":")
	switch kind {
	case "ok":
		if t := v.T("notice." + rest); t != "notice."+rest {
			v.Notice = t
		}
	case "err":
		code, field, _ := strings.Cut(rest, ":")
		if !validCode(code) {
			return
		}
		e := &errs.Error{Code: code, Field: field}
		v.Error = a.pages.ErrorText(c, v.Locale, e)
	}
}

func validCode(code string) bool {
	for _, c := range errs.Codes {
		if c == code {
			return code != errs.Internal
		}
	}
	return false
}

// done ends a form post: back to where it came from with a notice, or with
// the error in words (PRG: a reload never posts twice).
func (a *App) done(c *gin.Context, to string, err error, notice string) {
	switch e := errs.AsError(err); {
	case err == nil:
		a.flash(c, "ok:"+notice)
	case e == nil || e.Code == errs.Internal:
		// Unexpected: logged once here, shown as an internal error page.
		v := a.view(c, "")
		a.pages.Fail(c, v, err)
		return
	case e.Code == errs.NotFound:
		a.pages.Fail(c, a.view(c, ""), err)
		return
	default:
		a.flash(c, "err:"+e.Code+":"+e.Field)
	}
	c.Redirect(http.StatusSeeOther, to)
}
