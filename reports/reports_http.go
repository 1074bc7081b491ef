package reports

import (
	"embed"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/errs"
	"carnet/internal/i18n"
)

//go:embed locales/*.yaml
var localeFS embed.FS

// words are the reports' texts (CSV headings, chart labels, plain-word
// summaries) in fr, es and en.
var words = i18n.MustCatalog(localeFS, "locales")

// Routes mounts the reports under the coach's /v1 group.
func (s *Service) Routes(coach *gin.RouterGroup) {
	r := coach.Group("/reports")
	s.Mount(r, auth.CoachOf)
	r.GET("/settings", s.getSettings)
	r.PATCH("/settings", s.patchSettings)
}

// Mount serves each report (JSON, CSV, SVG) under g, for the coach that
// coachOf finds: the API's key, or the web app's session.
func (s *Service) Mount(g gin.IRouter, coachOf func(*gin.Context) auth.Coach) {
	h := *s
	h.coachOf = coachOf
	g.GET("/attendance", h.getAttendance)
	g.GET("/revenue", h.getRevenue)
	g.GET("/owed", h.getOwed)
	g.GET("/concentration", h.getConcentration)
	g.GET("/reliability", h.getReliability)
	g.GET("/coach-cancellations", h.getCoachCancellations)
	g.GET("/payments-due", h.getPaymentsDue)
	g.GET("/incidents", h.getIncidents)
}

// view is what every report handler needs: who asks, in which zone and
// language, and which format they want.
type view struct {
	coach  auth.Coach
	loc    *time.Location
	lang   string
	format string
	now    time.Time
	memo   map[string]string // words without data, looked up once per request (a CSV repeats them on every row)
}

func (s *Service) view(c *gin.Context, formats ...string) (view, error) {
	v := view{coach: s.coachOf(c), format: c.DefaultQuery("format", "json"), now: s.Now().UTC(), memo: map[string]string{}}
	v.loc = Location(v.coach)
	v.lang = i18n.Norm(c.DefaultQuery("lang", v.coach.Locale)) // the coach's own language unless asked
	for _, f := range append([]string{"json", "csv"}, formats...) {
		if v.format == f {
			return v, nil
		}
	}
	return v, errs.Field("format", "must be one of %s", strings.Join(append([]string{"json", "csv"}, formats...), ", "))
}

// periodView is view for a report over ?from=&to= months.
func (s *Service) periodView(c *gin.Context) (view, Period, error) {
	v, err := s.view(c)
	if err != nil {
		return v, Period{}, err
	}
	p, err := ParsePeriod(c.Query("from"), c.Query("to"), v.loc, v.now)
	return v, p, err
}

func (v view) t(id string, pairs ...any) string {
	if len(pairs) > 0 {
		return words.T(v.lang, id, pairs...)
	}
	w, ok := v.memo[id]
	if !ok {
		w = words.T(v.lang, id)
		v.memo[id] = w
	}
	return w
}

func (v view) local(t time.Time) string { return t.In(v.loc).Format("2006-01-02 15:04") }

// sendCSV answers a download named name.csv.
func sendCSV(c *gin.Context, name string, rows [][]string) { sendCSVBytes(c, name, CSV(rows)) }

func sendCSVBytes(c *gin.Context, name string, body []byte) {
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, name))
	c.Data(http.StatusOK, "text/csv; charset=utf-8", body)
}

func sendSVG(c *gin.Context, ch Chart) {
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	c.Data(http.StatusOK, "image/svg+xml; charset=utf-8", ch.SVG())
}

func itoa[T ~int | ~int64](n T) string { return strconv.FormatInt(int64(n), 10) }

func pct(r float64) string { return strconv.FormatFloat(r*100, 'f', 1, 64) }

func (s *Service) getAttendance(c *gin.Context) {
	v, err := s.view(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	month, err := ParseMonth(c.Query("month"), v.loc, v.now)
	if err != nil {
		api.Fail(c, err)
		return
	}
	var clientID int64
	if q := c.Query("client_id"); q != "" {
		if clientID, err = strconv.ParseInt(q, 10, 64); err != nil || clientID <= 0 {
			api.Fail(c, errs.Field("client_id", "must be a client id"))
			return
		}
	}
	ctx, end := c.Request.Context(), month.AddDate(0, 1, 0)
	if v.format == "csv" {
		// The rows only (the download has no totals line), written as they
		// are read: a month of bookings is never held in memory twice.
		w := newCSVWriter()
		_ = w.Write([]string{v.t("col_date"), v.t("col_time"), v.t("col_client"), v.t("col_session"), v.t("col_duration"),
			v.t("col_outcome"), v.t("col_cost"), v.t("col_fee"), v.t("col_currency"), v.t("col_waived"),
			v.t("col_waiver_reason"), v.t("col_confirmed"), v.t("col_booking")})
		line := make([]string, 13)
		// Each line's words come from these, by the row's value: a word
		// looked up by a name built per line cost more than the line.
		outcomes, costs := map[string]string{}, map[string]string{}
		word := func(m map[string]string, prefix, value string) string {
			w, ok := m[value]
			if !ok {
				w = v.t(prefix + value)
				m[value] = w
			}
			return w
		}
		err := s.read(ctx, func(q sqlx.QueryerContext) error {
			return s.eachAttendance(ctx, q, v.coach.ID, month, end, clientID, 0, 0, func(r *AttendanceRow) error {
				at := v.local(r.StartsAt) // "2006-01-02 15:04": the date and the time columns
				outcome := v.t("outcome_none")
				if r.Outcome != nil {
					outcome = word(outcomes, "outcome_", *r.Outcome)
				}
				waived, confirmed := "", ""
				if r.Waived {
					waived = v.t("yes")
				}
				if r.ClientConfirmedAt != nil {
					confirmed = v.local(*r.ClientConfirmedAt)
				}
				line = append(line[:0], at[:10], at[11:], Text(r.ClientName), Text(r.Title),
					itoa(r.DurationMinutes), outcome, word(costs, "cost_", r.Cost), itoa(r.FeeAmount), v.coach.Currency, waived,
					Text(r.WaiverReason), confirmed, itoa(r.BookingID))
				return w.Write(line)
			})
		})
		if err != nil {
			api.Fail(c, err)
			return
		}
		sendCSVBytes(c, "attendance-"+month.Format("2006-01"), w.Bytes())
		return
	}
	p, err := api.ParsePage(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	var rows []AttendanceRow
	var totals AttendanceTotals
	err = s.read(ctx, func(q sqlx.QueryerContext) (err error) {
		if rows, err = s.attendance(ctx, q, v.coach.ID, month, end, clientID, p.After, p.Limit+1); err != nil {
			return err
		}
		totals, err = s.attendanceTotals(ctx, q, v.coach.ID, month, end, clientID)
		return err
	})
	list := api.NewList(rows, p.Limit, func(r AttendanceRow) int64 { return r.BookingID })
	api.Respond(c, http.StatusOK, gin.H{"month": month.Format("2006-01"), "timezone": v.loc.String(),
		"currency": v.coach.Currency, "totals": totals, "data": list.Data, "next_cursor": list.NextCursor}, err)
}

func (s *Service) getRevenue(c *gin.Context) {
	v, err := s.view(c, "svg")
	if err != nil {
		api.Fail(c, err)
		return
	}
	last, err := ParseMonth(c.Query("month"), v.loc, v.now)
	if err != nil {
		api.Fail(c, err)
		return
	}
	months, rows, tot, err := s.Revenue(c.Request.Context(), v.coach, last)
	if err != nil {
		api.Fail(c, err)
		return
	}
	switch v.format {
	case "svg":
		sendSVG(c, RevenueChart(months, rows, v.coach.Currency, v.lang))
	case "csv":
		head := []string{v.t("col_month"), v.t("col_received")}
		for _, m := range Methods {
			head = append(head, v.t("col_"+m))
		}
		out := [][]string{append(head, v.t("col_refunded"), v.t("col_net"), v.t("col_earned_sessions"),
			v.t("col_earned_period"), v.t("col_earned"), v.t("col_currency"))}
		// The months, then their total, as the page shows them.
		for _, r := range append(rows, tot) {
			line := []string{r.Month, itoa(r.Received)}
			if r.Month == tot.Month {
				line[0] = v.t("total")
			}
			for _, m := range Methods {
				line = append(line, itoa(r.ByMethod[m]))
			}
			out = append(out, append(line, itoa(r.Refunded), itoa(r.Net), itoa(r.EarnedSessions), itoa(r.EarnedPeriod),
				itoa(r.Earned), v.coach.Currency))
		}
		sendCSV(c, "revenue-"+months[len(months)-1].Format("2006-01"), out)
	default:
		c.JSON(http.StatusOK, gin.H{"currency": v.coach.Currency, "timezone": v.loc.String(), "months": rows,
			"totals": gin.H{"received": tot.Received, "received_by_method": tot.ByMethod, "refunded": tot.Refunded, "net": tot.Net,
				"earned_sessions": tot.EarnedSessions, "earned_period": tot.EarnedPeriod, "earned": tot.Earned}})
	}
}

func (s *Service) getOwed(c *gin.Context) {
	v, err := s.view(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	ctx := c.Request.Context()
	if v.format == "csv" {
		var packs []OwedPack
		if err := s.read(ctx, func(q sqlx.QueryerContext) (err error) {
			packs, err = s.owedPacks(ctx, q, v.coach, v.loc, v.now, 0, 0)
			return err
		}); err != nil {
			api.Fail(c, err)
			return
		}
		out := [][]string{{v.t("col_client"), v.t("col_pack"), v.t("col_kind"), v.t("col_sessions_left"),
			v.t("col_days_left"), v.t("col_value"), v.t("col_currency"), v.t("col_valid_until"), v.t("col_expiring")}}
		for _, p := range packs {
			exp := ""
			if p.Expiring {
				exp = v.t("yes")
			}
			out = append(out, []string{Text(p.ClientName), itoa(p.PackID), v.t("kind_" + p.Kind), itoa(p.Remaining),
				itoa(p.DaysLeft), itoa(p.Value), v.coach.Currency, v.local(p.ValidUntil), exp})
		}
		sendCSV(c, "owed-"+v.now.In(v.loc).Format("2006-01-02"), out)
		return
	}
	page, err := api.ParsePage(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	r, err := s.Owed(ctx, v.coach, v.now, page)
	if err != nil {
		api.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"currency": v.coach.Currency, "as_of": v.now, "total": r.Total,
		"expiring_within_30_days": r.Expiring, "clients": r.Clients, "next_cursor": r.NextCursor})
}

func (s *Service) getConcentration(c *gin.Context) {
	v, err := s.view(c, "svg")
	if err != nil {
		api.Fail(c, err)
		return
	}
	last, err := ParseMonth(c.Query("month"), v.loc, v.now)
	if err != nil {
		api.Fail(c, err)
		return
	}
	page, err := api.ParsePage(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	r, err := s.Concentration(c.Request.Context(), v.coach, last)
	if err != nil {
		api.Fail(c, err)
		return
	}
	shares, months := r.Shares, r.Months
	switch v.format {
	case "svg":
		sendSVG(c, ConcentrationChart(r, v.coach.Currency, v.lang))
	case "csv":
		out := [][]string{{v.t("col_client"), v.t("col_net"), v.t("col_currency"), v.t("col_share"), v.t("col_flagged")}}
		for _, sh := range shares {
			flag := ""
			if sh.Flagged {
				flag = v.t("yes")
			}
			out = append(out, []string{Text(sh.Name), itoa(sh.Amount), v.coach.Currency, pct(sh.Share), flag})
		}
		sendCSV(c, "concentration-"+months[len(months)-1].Format("2006-01"), out)
	default:
		// The largest first, as many as limit; the CSV has everyone.
		c.JSON(http.StatusOK, gin.H{"currency": v.coach.Currency, "from": months[0].Format("2006-01"),
			"to": months[len(months)-1].Format("2006-01"), "total": r.Total, "flag_above": ConcentrationFlag,
			"flagged": r.Flagged, "paying_clients": len(shares), "clients": shares[:min(len(shares), page.Limit)]})
	}
}

func (s *Service) getReliability(c *gin.Context) {
	v, p, err := s.periodView(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	page, err := api.ParsePage(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	r, err := s.ReliabilityOf(c.Request.Context(), v.coach.ID, p)
	if err != nil {
		api.Fail(c, err)
		return
	}
	rows := r.Clients
	if v.format != "csv" {
		// The least reliable first, as many as limit; the CSV has everyone.
		shown := rows[:min(len(rows), page.Limit)]
		for i := range shown {
			shown[i].Summary = Summary(v.lang, shown[i], r.Threshold)
		}
		c.JSON(http.StatusOK, gin.H{"from": p.From.Format("2006-01"), "to": p.Last().Format("2006-01"),
			"threshold": r.Threshold, "flagged": r.Flagged, "clients_with_incidents": len(rows), "clients": shown})
		return
	}
	out := [][]string{{v.t("col_client"), v.t("col_late_cancellations"), v.t("col_no_shows"), v.t("col_waived"),
		v.t("col_failed_payments"), v.t("col_late_payments"), v.t("col_score"), v.t("col_flagged"), v.t("col_summary")}}
	for _, cl := range rows {
		flag := ""
		if cl.Flagged {
			flag = v.t("yes")
		}
		out = append(out, []string{Text(cl.Name), itoa(cl.LateCancelled), itoa(cl.NoShows), itoa(cl.Waived),
			itoa(cl.FailedPayments), itoa(cl.LatePayments), itoa(cl.Score), flag, Text(Summary(v.lang, cl, r.Threshold))})
	}
	sendCSV(c, "reliability-"+p.From.Format("2006-01")+"-"+p.Last().Format("2006-01"), out)
}

// Summary says a client's record in plain words, in lang, with CLDR plurals.
func Summary(lang string, r Reliability, threshold int) string {
	t := func(id string, pairs ...any) string { return words.T(lang, id, pairs...) }
	s := t("reliability_facts", "Name", r.Name,
		"LateCancellations", t("late_cancellations", "Count", r.LateCancelled),
		"NoShows", t("no_shows", "Count", r.NoShows),
		"Failed", t("failed_payments", "Count", r.FailedPayments),
		"Late", t("late_payments", "Count", r.LatePayments))
	if r.Waived > 0 {
		s += " " + t("reliability_waived", "Count", r.Waived)
	}
	if r.Flagged {
		s += " " + t("reliability_flagged", "Count", threshold)
	}
	return s
}

func (s *Service) getCoachCancellations(c *gin.Context) {
	v, p, err := s.periodView(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	r, err := s.CoachCancellations(c.Request.Context(), v.coach.ID, p)
	if err != nil {
		api.Fail(c, err)
		return
	}
	last := p.Last().Format("2006-01")
	if v.format == "csv" {
		out := [][]string{{v.t("col_month"), v.t("col_bookings"), v.t("col_coach_cancelled"), v.t("col_rate")}}
		for _, m := range r.Months {
			out = append(out, []string{m.Month, itoa(m.Bookings), itoa(m.CoachCancelled), pct(m.Rate)})
		}
		out = append(out, nil, []string{v.t("col_client"), v.t("col_next_bookings"), v.t("col_cancelled_next"),
			v.t("col_rate_after"), v.t("col_usual_rate")})
		for _, cl := range r.Clients {
			out = append(out, []string{Text(cl.Name), itoa(cl.AfterCoach), itoa(cl.CancelledAfter), pct(cl.RateAfter), pct(cl.UsualRate)})
		}
		sendCSV(c, "coach-cancellations-"+p.From.Format("2006-01")+"-"+last, out)
		return
	}
	page, err := api.ParsePage(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"from": p.From.Format("2006-01"), "to": last, "months": r.Months,
		"totals": gin.H{"bookings": r.Bookings, "coach_cancelled": r.CoachCancelled, "rate": r.Rate()},
		"after_coach_cancel": gin.H{"next_bookings": r.NextBookings, "cancelled_next": r.CancelledNext,
			"rate_after_coach_cancel": r.RateAfter(), "usual_rate": r.UsualRate()},
		"clients_after_coach_cancel": len(r.Clients), "clients": r.Clients[:min(len(r.Clients), page.Limit)]})
}

func (s *Service) getPaymentsDue(c *gin.Context) {
	v, err := s.view(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	r, err := s.PaymentsDue(c.Request.Context(), v.coach.ID, v.now)
	if err != nil {
		api.Fail(c, err)
		return
	}
	if v.format == "csv" {
		out := [][]string{{v.t("col_status"), v.t("col_due"), v.t("col_client"), v.t("col_pack"), v.t("col_seq"),
			v.t("col_amount"), v.t("col_currency")}}
		for _, g := range []struct {
			name string
			rows []DueInstallment
		}{{"overdue", r.Overdue}, {"failed", r.Failed}, {"upcoming", r.Upcoming}} {
			for _, d := range g.rows {
				out = append(out, []string{v.t("due_" + g.name), d.DueAt.In(v.loc).Format("2006-01-02"), Text(d.ClientName),
					itoa(d.PackID), itoa(d.Seq), itoa(d.Amount), d.Currency})
			}
		}
		for _, a := range r.Anomalies {
			out = append(out, []string{v.t("due_anomaly"), "", "", "", "", itoa(a.Excess), v.coach.Currency})
		}
		sendCSV(c, "payments-due-"+v.now.In(v.loc).Format("2006-01-02"), out)
		return
	}
	c.JSON(http.StatusOK, gin.H{"currency": v.coach.Currency, "as_of": v.now,
		"upcoming": r.Upcoming, "overdue": r.Overdue, "failed": r.Failed,
		"totals":    gin.H{"upcoming": r.UpcomingSum, "overdue": r.OverdueSum, "failed": r.FailedSum},
		"anomalies": gin.H{"open": len(r.Anomalies), "held": r.Held, "data": r.Anomalies}})
}

func (s *Service) getIncidents(c *gin.Context) {
	v, p, err := s.periodView(c)
	if err != nil {
		api.Fail(c, err)
		return
	}
	r, err := s.IncidentsOf(c.Request.Context(), v.coach.ID, p)
	if err != nil {
		api.Fail(c, err)
		return
	}
	last := p.Last().Format("2006-01")
	if v.format == "csv" {
		out := [][]string{{v.t("col_date"), v.t("col_session"), v.t("col_incident"), v.t("col_item"), v.t("col_clients"),
			v.t("col_sessions_given"), v.t("col_minutes_given"), v.t("col_value_given"), v.t("col_currency"), v.t("col_note")}}
		for _, inc := range r.Incidents {
			for _, g := range inc.Grants {
				out = append(out, []string{v.local(g.CreatedAt), Text(inc.SessionTitle), Text(g.Incident), v.t("item_" + g.Item),
					itoa(g.Clients), itoa(g.Sessions * g.Clients), itoa(g.Minutes * g.Clients), itoa(g.ValueGiven),
					v.coach.Currency, Text(g.Note)})
			}
		}
		sendCSV(c, "incidents-"+p.From.Format("2006-01")+"-"+last, out)
		return
	}
	c.JSON(http.StatusOK, gin.H{"from": p.From.Format("2006-01"), "to": last, "currency": v.coach.Currency,
		"incidents": r.Incidents, "totals": gin.H{"value_given": r.ValueGiven, "minutes_given": r.MinutesGiven,
			"sessions_given": r.SessionsGiven}})
}

func (s *Service) getSettings(c *gin.Context) {
	n, err := s.Threshold(c.Request.Context(), s.DB, auth.CoachOf(c).ID)
	api.Respond(c, http.StatusOK, Settings{ReliabilityThreshold: n}, err)
}

func (s *Service) patchSettings(c *gin.Context) {
	var in struct {
		ReliabilityThreshold *int `json:"reliability_threshold"`
	}
	if err := api.Decode(c, &in); err != nil {
		api.Fail(c, err)
		return
	}
	if in.ReliabilityThreshold == nil {
		api.Fail(c, errs.Field("reliability_threshold", "is required"))
		return
	}
	st, err := s.SetThreshold(c.Request.Context(), auth.CoachOf(c).ID, *in.ReliabilityThreshold)
	api.Respond(c, http.StatusOK, st, err)
}
