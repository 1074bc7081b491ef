package web

import (
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"carnet/internal/errs"
	"carnet/reports"
)

// reportLinks are the reports a coach can download, by route name.
var reportLinks = []string{"attendance", "revenue", "owed", "concentration", "reliability",
	"coach-cancellations", "payments-due", "incidents"}

type reportsData struct {
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
	v.Data = reportsData{Lang: v.Locale, Month: last.Format("2006-01"), Months: months, Rows: rows, Total: tot,
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
	v.Data = sheetData{reportsData: reportsData{Lang: v.Locale, Month: month.Format("2006-01"), Currency: coach.Currency},
		MonthStart: month, Rows: rows, Totals: totals, ClientID: clientID}
	a.render(c, "attendance", v)
}
