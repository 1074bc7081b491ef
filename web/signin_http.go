package web

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"carnet/internal/auth"
	"carnet/internal/errs"
)

type signInData struct {
	Next, Token string
	Sent        bool
	NoMailer    bool
}

func (a *App) signInPage(c *gin.Context) {
	v := a.publicView(c)
	v.Title = v.T("signin.title")
	v.Data = signInData{Next: safeNext(c.Query("next")), Sent: c.Query("sent") == "1", NoMailer: !a.Mailer}
	a.pages.Render(c, http.StatusOK, "signin", v)
}

// postSignIn sends the link; the answer is the same for any address.
func (a *App) postSignIn(c *gin.Context) {
	err := requestSignIn(c.Request.Context(), a.DB, a.BaseURL, c.PostForm("email"), c.PostForm("next"), a.Now())
	if err != nil {
		a.doneOut(c, "/app/signin", err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/app/signin?sent=1")
}

// signInConfirm shows a button rather than signing in on GET: mail
// scanners open links, and a GET must change nothing.
func (a *App) signInConfirm(c *gin.Context) {
	v := a.publicView(c)
	v.Title = v.T("signin.title")
	v.Data = signInData{Token: c.Param("token"), Next: safeNext(c.Query("next"))}
	a.pages.Render(c, http.StatusOK, "signin_confirm", v)
}

func (a *App) postSignInToken(c *gin.Context) {
	_, session, err := auth.UseSignIn(c.Request.Context(), a.DB, c.Param("token"), a.Now())
	if err != nil {
		// A guessed link counts against the address, as a wrong key does.
		err = auth.CountFailure(c.Request.Context(), a.DB, c.ClientIP(), a.Now(), c.Param("token"), err)
		a.doneOut(c, "/app/signin", err)
		return
	}
	a.startSession(c, session, safeNext(c.PostForm("next")))
}

func (a *App) postSignInKey(c *gin.Context) {
	key := strings.TrimSpace(c.PostForm("api_key"))
	_, session, err := auth.SignInWithKey(c.Request.Context(), a.DB, key, c.ClientIP(), a.Now())
	if err != nil {
		a.doneOut(c, "/app/signin", err)
		return
	}
	a.startSession(c, session, safeNext(c.PostForm("next")))
}

func (a *App) startSession(c *gin.Context, token, next string) {
	a.setCookie(c, sessionCookie, token, int(auth.SessionTTL.Seconds()))
	c.Redirect(http.StatusSeeOther, next)
}

// doneOut is done for the pages before signing in.
func (a *App) doneOut(c *gin.Context, to string, err error) {
	e := errs.AsError(err)
	if e == nil {
		a.pages.Fail(c, a.publicView(c), err)
		return
	}
	a.flash(c, "err:"+e.Code+":"+e.Field)
	c.Redirect(http.StatusSeeOther, to)
}

func (a *App) postSignOut(c *gin.Context) {
	token, _ := c.Get(tokenCtxKey)
	s, _ := token.(string)
	if err := auth.SignOut(c.Request.Context(), a.DB, s); err != nil {
		a.pages.Fail(c, a.view(c, ""), err)
		return
	}
	a.setCookie(c, sessionCookie, "", -1)
	a.flash(c, "ok:signed_out")
	c.Redirect(http.StatusSeeOther, "/app/signin")
}

func (a *App) postSignOutEverywhere(c *gin.Context) {
	if err := auth.SignOutEverywhere(c.Request.Context(), a.DB, coachOf(c).ID, a.Now()); err != nil {
		a.pages.Fail(c, a.view(c, ""), err)
		return
	}
	a.setCookie(c, sessionCookie, "", -1)
	a.flash(c, "ok:signed_out_everywhere")
	c.Redirect(http.StatusSeeOther, "/app/signin")
}
