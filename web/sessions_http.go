package web

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/internal/errs"
	"carnet/packs"
)

// sessions lists the week's sessions (?date= picks another week).
func (a *App) sessions(c *gin.Context) {
	coach := coachOf(c)
	v := a.view(c, "sessions")
	list, err := a.Packs.Sessions(c.Request.Context(), coach, "week", c.Query("date"))
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	sessions, err := a.withNames(c, v, list)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	day := a.Now().In(v.Location)
	if d, err := time.ParseInLocation("2006-01-02", c.Query("date"), v.Location); err == nil {
		day = d
	}
	v.Title = v.T("sessions.title")
	v.Data = todayData{Period: "week", Date: day, Sessions: sessions,
		Prev: day.AddDate(0, 0, -7).Format("2006-01-02"), Next: day.AddDate(0, 0, 7).Format("2006-01-02")}
	a.render(c, "sessions", v)
}

type newSessionData struct {
	Search   string
	Clients  []packs.ClientLine
	Chosen   map[int64]bool
	Start    time.Time
	Duration int
}

// newSession is the scheduling form: a search picks the participants
// (ticked ones are kept across searches as hidden fields).
func (a *App) newSession(c *gin.Context) {
	coach := coachOf(c)
	v := a.view(c, "sessions")
	chosen := map[int64]bool{}
	// A refused schedule shows again with the clients it had ticked.
	for _, s := range append(append(c.QueryArray("client"), c.QueryArray("client_id")...), c.PostFormArray("client_id")...) {
		if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
			chosen[id] = true
		}
	}
	list, err := a.Packs.ClientList(c.Request.Context(), coach.ID, packs.ClientQuery{Search: c.Query("q"), PerPage: 50})
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	// Ticked clients outside this search still show, first.
	shown := map[int64]bool{}
	for _, l := range list.Lines {
		shown[l.ID] = true
	}
	var missing []int64
	for id := range chosen {
		if !shown[id] {
			missing = append(missing, id)
		}
	}
	names, err := a.Packs.ClientNames(c.Request.Context(), coach.ID, missing)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	lines := []packs.ClientLine{}
	for id, n := range names {
		lines = append(lines, packs.ClientLine{ID: id, Name: n})
	}
	start := a.Now().In(v.Location).Truncate(time.Hour).Add(time.Hour)
	v.Title = v.T("sessions.new")
	v.Data = newSessionData{Search: c.Query("q"), Clients: append(lines, list.Lines...), Chosen: chosen,
		Start: start, Duration: 60}
	a.render(c, "session_new", v)
}

// sessionInput reads the schedule and reschedule forms; the time is typed
// in the coach's time zone.
func (a *App) sessionInput(c *gin.Context, v *View) (packs.SessionInput, error) {
	var in packs.SessionInput
	title := strings.TrimSpace(c.PostForm("title"))
	in.Title = &title
	start, err := time.ParseInLocation("2006-01-02T15:04", c.PostForm("starts_at"), v.Location)
	if err != nil {
		return in, errs.Field("starts_at", "must be a date and time")
	}
	in.StartsAt = &start
	d, err := strconv.Atoi(c.PostForm("duration_minutes"))
	if err != nil {
		return in, errs.Field("duration_minutes", "must be a number of minutes")
	}
	in.DurationMinutes = &d
	return in, nil
}

func (a *App) postSession(c *gin.Context) {
	v := a.view(c, "sessions")
	in, err := a.sessionInput(c, v)
	if err == nil {
		in.Kind = c.PostForm("kind")
		for _, s := range c.PostFormArray("client_id") {
			id, _ := strconv.ParseInt(s, 10, 64)
			in.ClientIDs = append(in.ClientIDs, id)
		}
		var s packs.Session
		if s, err = a.Packs.Schedule(c.Request.Context(), coachOf(c).ID, in); err == nil {
			a.done(c, fmt.Sprintf("/app/sessions/%d", s.ID), nil, "session_scheduled")
			return
		}
	}
	back := "/app/sessions/new"
	if ids := c.PostFormArray("client_id"); len(ids) > 0 {
		back += "?client=" + strings.Join(ids, "&client=") // the ticked clients stay ticked
	}
	a.refused(c, back, err, "", func() { a.newSession(c) })
}

type sessionData struct {
	sessionView
	Started bool
}

func (a *App) session(c *gin.Context, id int64) {
	coach := coachOf(c)
	v := a.view(c, "sessions")
	s, err := a.Packs.SessionByID(c.Request.Context(), coach.ID, id)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	views, err := a.withNames(c, v, []packs.Session{s})
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	v.Title = v.T("sessions.one", "Date", v.DateTime(s.StartsAt))
	v.Data = sessionData{sessionView: views[0], Started: !a.Now().Before(s.StartsAt)}
	a.render(c, "session", v)
}

func (a *App) postReschedule(c *gin.Context, id int64) {
	v := a.view(c, "sessions")
	in, err := a.sessionInput(c, v)
	if err == nil {
		_, err = a.Packs.Reschedule(c.Request.Context(), coachOf(c).ID, id, in)
	}
	a.done(c, fmt.Sprintf("/app/sessions/%d", id), err, "session_moved")
}

func (a *App) postCancelSession(c *gin.Context, id int64) {
	_, err := a.Packs.CancelSession(c.Request.Context(), coachOf(c).ID, id)
	a.done(c, fmt.Sprintf("/app/sessions/%d", id), err, "session_cancelled")
}
