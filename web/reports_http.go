package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/internal/api"
	"carnet/internal/auth"
	"carnet/internal/errs"
	"carnet/reports"
)

// reportLinks are the reports a coach can download, by route name.
var reportLinks = []string{"attendance", "revenue", "owed", "concentration", "reliability",
	"coach-cancellations", "payments-due", "incidents"}

// reportPages are the reports' pages, in the order of their tabs; the
// first is /app/reports itself.
var reportPages = []string{"revenue", "attendance", "owed", "concentration", "reliability",
	"coach-cancellations", "payments-due", "incidents"}

type reportsData struct {
	Name     string // the page's report, its tab
	Lang     string
	Month    string // 2026-10, the last of the twelve
	Months   []time.Time
	Rows     []reports.MonthMoney
	Total    reports.MonthMoney
	Currency string
	Methods  []string // how money is received, in the report's order
	Links    []string
}

// W writes one of the reports' own texts (the CSV headings): a page and its
// download say the same words.
func (d reportsData) W(id string) string { return reports.Word(d.Lang, id) }

// reportsPage shows the twelve months' money (the chart and the table under
// it), the charts and the downloads of every report.
func (a *App) reportsPage(c *gin.Context) {
	coach := coachOf(c)
	v := a.view(c, "reports")
	v.Title = v.T("reports.title")
	last, err := reports.ParseMonth(c.Query("month"), reports.Location(coach), a.Now())
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	months, rows, tot, err := a.Reports.Revenue(c.Request.Context(), coach, last)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	v.Data = reportsData{Name: "revenue", Lang: v.Locale, Month: last.Format("2006-01"), Months: months, Rows: rows, Total: tot,
		Currency: coach.Currency, Methods: reports.Methods, Links: reportLinks}
	a.render(c, "reports", v)
}

type sheetData struct {
	reportsData
	MonthStart time.Time
	Rows       []reports.AttendanceRow
	Totals     reports.AttendanceTotals
	ClientID   int64
}

// attendanceSheet is the month's attendance sheet, printable on A4.
func (a *App) attendanceSheet(c *gin.Context) {
	coach := coachOf(c)
	v := a.view(c, "reports")
	month, err := reports.ParseMonth(c.Query("month"), reports.Location(coach), a.Now())
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	var clientID int64
	if q := c.Query("client_id"); q != "" {
		if clientID, err = strconv.ParseInt(q, 10, 64); err != nil || clientID <= 0 {
			a.pages.Fail(c, v, errs.Field("client_id", "must be a client id"))
			return
		}
	}
	rows, totals, err := a.Reports.AttendanceSheet(c.Request.Context(), coach, month, clientID)
	if err != nil {
		a.pages.Fail(c, v, err)
		return
	}
	v.Title = v.T("reports.sheet_title", "Month", v.MonthName(month))
	v.Data = sheetData{reportsData: reportsData{Name: "attendance", Lang: v.Locale, Month: month.Format("2006-01"), Currency: coach.Currency},
		MonthStart: month, Rows: rows, Totals: totals, ClientID: clientID}
	a.render(c, "attendance", v)
}

// reportPage is one report's page: its figures, and the months it covers,
// which its form and its download keep.
type reportPage struct {
	reportsData
	From, To string // a period's first and last months (2026-01)
	R        any    // the report, as reports.Service builds it
}

// Summary is a client's reliability in plain words, in the page's language.
func (d reportPage) Summary(r reports.Reliability, threshold int) string {
	return reports.Summary(d.Lang, r, threshold)
}

// report serves the page of report name with what fill reads into it; a
// bad month or cursor is the error page, in words.
func (a *App) report(name string, fill func(c *gin.Context, coach auth.Coach, d *reportPage) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		coach := coachOf(c)
		v := a.view(c, "reports")
		v.Title = v.T("reports.page." + name)
		d := &reportPage{reportsData: reportsData{Name: name, Lang: v.Locale, Currency: coach.Currency, Links: reportLinks}}
		if err := fill(c, coach, d); err != nil {
			a.pages.Fail(c, v, err)
			return
		}
		v.Data = d
		a.render(c, name, v)
	}
}

// period reads a period report's ?from=&to= (twelve months by default).
func (a *App) period(c *gin.Context, coach auth.Coach, d *reportPage) (reports.Period, error) {
	p, err := reports.ParsePeriod(c.Query("from"), c.Query("to"), reports.Location(coach), a.Now())
	if err == nil {
		d.From, d.To = p.From.Format("2006-01"), p.Last().Format("2006-01")
	}
	return p, err
}

// reportRoutes are the report pages beside the revenue and the sheet.
func (a *App) reportRoutes(g gin.IRouter) {
	g.GET("/reports/owed", a.report("owed", func(c *gin.Context, coach auth.Coach, d *reportPage) error {
		page, err := api.ParsePage(c)
		if err != nil {
			return err
		}
		d.R, err = a.Reports.Owed(c.Request.Context(), coach, a.Now(), page)
		return err
	}))
	g.GET("/reports/concentration", a.report("concentration", func(c *gin.Context, coach auth.Coach, d *reportPage) error {
		last, err := reports.ParseMonth(c.Query("month"), reports.Location(coach), a.Now())
		if err != nil {
			return err
		}
		d.Month = last.Format("2006-01")
		d.R, err = a.Reports.Concentration(c.Request.Context(), coach, last)
		return err
	}))
	g.GET("/reports/reliability", a.report("reliability", func(c *gin.Context, coach auth.Coach, d *reportPage) error {
		p, err := a.period(c, coach, d)
		if err != nil {
			return err
		}
		d.R, err = a.Reports.ReliabilityOf(c.Request.Context(), coach.ID, p)
		return err
	}))
	g.GET("/reports/coach-cancellations", a.report("coach-cancellations", func(c *gin.Context, coach auth.Coach, d *reportPage) error {
		p, err := a.period(c, coach, d)
		if err != nil {
			return err
		}
		d.R, err = a.Reports.CoachCancellations(c.Request.Context(), coach.ID, p)
		return err
	}))
	g.GET("/reports/payments-due", a.report("payments-due", func(c *gin.Context, coach auth.Coach, d *reportPage) (err error) {
		d.R, err = a.Reports.PaymentsDue(c.Request.Context(), coach.ID, a.Now())
		return err
	}))
	g.GET("/reports/incidents", a.report("incidents", func(c *gin.Context, coach auth.Coach, d *reportPage) error {
		p, err := a.period(c, coach, d)
		if err != nil {
			return err
		}
		d.R, err = a.Reports.IncidentsOf(c.Request.Context(), coach.ID, p)
		return err
	}))
}

// pageRows is how many lines a report's page lists (template func first)
// where its download lists everyone.
const pageRows = 50

// postReportSettings saves the reliability threshold the reports flag
// clients against.
func (a *App) postReportSettings(c *gin.Context) {
	n, err := strconv.Atoi(strings.TrimSpace(c.PostForm("reliability_threshold")))
	if err != nil {
		err = errs.Field("reliability_threshold", "must be a whole number from 1 to 1000")
	} else {
		_, err = a.Reports.SetThreshold(c.Request.Context(), coachOf(c).ID, n)
	}
	a.refused(c, "/app/settings", err, "saved", func() { a.settings(c) })
}
