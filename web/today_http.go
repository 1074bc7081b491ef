package web

import (
	"fmt"
	"html/template"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/packs"
)

// sessionView is a session with its participants' names.
type sessionView struct {
	packs.Session
	Ends         time.Time
	Participants []participant
}

// participant is one line of a session, in words already: a page of 200
// participants renders 800 buttons, and resolving labels, pointers and
// links in the template was most of that page's time (profiled).
type participant struct {
	ID, ClientID int64
	Name         string
	Outcome      string // the outcome recorded, in words; "" while none is
	Tone         string // ok, warn or "" for the outcome's tag
	Waived       string // "" unless its charge was waived, in words
	// Buttons are the outcome buttons while none is recorded, written here:
	// through the template, escaping four attributes of 800 buttons by
	// reflection was still two thirds of the page (profiled). Every value
	// in them is escaped below.
	Buttons template.HTML
}

type todayData struct {
	Period   string // day or week
	Date     time.Time
	Prev     string
	Next     string
	Sessions []sessionView
}

// today lists the day's (or the week's) sessions with one button per
// outcome for each participant still to settle.
func (a *App) today(c *gin.Context) {
	coach := coachOf(c)
	v := a.view(c, "today")
	period := c.DefaultQuery("period", "day")
	if period != "week" {
		period = "day"
	}
	list, err := a.Packs.Sessions(c.Request.Context(), coach, period, c.Query("date"))
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
	step := 1
	if period == "week" {
		step = 7
	}
	d := todayData{Period: period, Date: day, Sessions: sessions,
		Prev: day.AddDate(0, 0, -step).Format("2006-01-02"), Next: day.AddDate(0, 0, step).Format("2006-01-02")}
	v.Title = v.T("today.title." + period)
	v.Data = d
	a.render(c, "today", v)
}

// withNames adds each participant's name to sessions.
func (a *App) withNames(c *gin.Context, v *View, list []packs.Session) ([]sessionView, error) {
	var ids []int64
	for _, s := range list {
		for _, b := range s.Bookings {
			ids = append(ids, b.ClientID)
		}
	}
	names, err := a.Packs.ClientNames(c.Request.Context(), coachOf(c).ID, ids)
	if err != nil {
		return nil, err
	}
	back := url.QueryEscape(c.Request.URL.RequestURI())
	labels := make([]string, len(outcomeChoices))
	for i, o := range outcomeChoices {
		labels[i] = template.HTMLEscapeString(v.T("outcome.do." + o))
	}
	out := make([]sessionView, 0, len(list))
	for _, s := range list {
		sv := sessionView{Session: s, Ends: s.StartsAt.Add(time.Duration(s.DurationMinutes) * time.Minute)}
		for _, b := range s.Bookings {
			p := participant{ID: b.ID, ClientID: b.ClientID, Name: names[b.ClientID]}
			if b.Outcome == nil {
				var w strings.Builder
				for i, o := range outcomeChoices {
					href := template.HTMLEscapeString(fmt.Sprintf("/app/bookings/%d/outcome?outcome=%s&back=%s", b.ID, o, back))
					fmt.Fprintf(&w, `<a class="button secondary" href="%s" hx-get="%s" hx-select="#confirm" hx-target="#booking-%d .confirm" hx-swap="innerHTML">%s</a>`,
						href, href, b.ID, labels[i])
				}
				p.Buttons = template.HTML(w.String()) // every value in it is escaped above
			} else {
				p.Outcome, p.Tone = v.T("outcome."+*b.Outcome), outcomeTone(*b.Outcome)
				if b.Waived {
					p.Waived = v.T("outcome.waived")
				}
			}
			sv.Participants = append(sv.Participants, p)
		}
		out = append(out, sv)
	}
	return out, nil
}

type outcomeData struct {
	packs.OutcomePreview
	Name   string
	Back   string
	Cost   string // the cost in words
	Refuse bool   // recording it would be refused (no usable pack)
}

// outcomePreview shows what an outcome will cost before the coach confirms
// it: with htmx it opens inline under the participant, without JavaScript
// it is a page of its own.
func (a *App) outcomePreview(c *gin.Context, id int64) {
	v := a.view(c, "today")
	ctx := c.Request.Context()
	coach := coachOf(c)
	p, err := a.Packs.PreviewOutcome(ctx, coach.ID, id, c.Query("outcome"))
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	names, err := a.Packs.ClientNames(ctx, coach.ID, []int64{p.ClientID})
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	d := outcomeData{OutcomePreview: p, Name: names[p.ClientID], Back: safeNext(c.Query("back"))}
	d.Cost, d.Refuse = outcomeCost(v, p)
	v.Title = v.T("outcome.title", "Name", d.Name)
	v.Data = d
	a.render(c, "outcome", v)
}

// outcomeTone is the colour of an outcome's tag: attended is good, a
// cancellation is neutral, a charge for a missed session a warning.
func outcomeTone(outcome string) string {
	switch outcome {
	case packs.Attended:
		return "ok"
	case packs.CoachCancelled, packs.Cancelled:
		return ""
	}
	return "warn"
}

// outcomeChoices are the buttons of a participant still to settle.
var outcomeChoices = []string{packs.Attended, packs.NoShow, packs.Cancelled, packs.CoachCancelled}

// outcomeCost says in words what an outcome costs under the charter that
// judges it.
func outcomeCost(v *View, p packs.OutcomePreview) (string, bool) {
	switch {
	case p.Outcome == packs.CoachCancelled:
		return v.T("cost.coach_cancelled"), false
	case p.Charge.Fee > 0:
		return v.T("cost.fee", "Amount", v.Money(p.Charge.Fee, p.Currency)), false
	case p.Charge.Kind == "":
		return v.T("cost.nothing"), false
	case p.NoPack && p.Outcome == packs.LateCancelled:
		return v.T("cost.late_no_pack"), false
	case p.NoPack:
		return v.T("cost.no_pack"), true
	case p.PackKind == packs.KindPeriod:
		return v.T("cost.period"), false
	case p.LastSession():
		return v.T("cost.last_session"), false
	}
	return v.T("cost.session", "Count", p.Remaining-1), false
}

func (a *App) postOutcome(c *gin.Context, id int64) {
	back := safeNext(c.PostForm("back"))
	_, err := a.Packs.RecordOutcome(c.Request.Context(), coachOf(c).ID, id, packs.OutcomeInput{Outcome: c.PostForm("outcome")})
	a.done(c, back, err, "outcome_recorded")
}
